package io.javastor.ioengine.nexus;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.InFlightCount;

import java.util.concurrent.CompletableFuture;

/**
 * One opening of a child's device and the I/O in flight on it. A child that faults and comes back gets a
 * new one; late completions of the old one are told apart (they may still mark its dirty log, never fault
 * the new opening), and the re-add waits until the old one has drained so no late failure is missed.
 */
final class ChildIo {
    final BlockDevice device;
    /** The device's instance when opened (see BlockDevice#instanceId): a re-opening must answer the same for a partial rebuild. */
    final String instance;
    private final InFlightCount outstanding = new InFlightCount();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private volatile boolean retired;

    ChildIo(BlockDevice device) {
        this.device = device;
        this.instance = device.instanceId();
    }

    /** Counts an I/O in; give what it returns to {@link #end(int)} when the device answers. */
    int begin() {
        return outstanding.begin();
    }

    /** Counts out the I/O {@link #begin()} counted in; the last one out of a retired opening drains it. */
    void end(int counted) {
        outstanding.end(counted);
        if (retired && outstanding.sum() == 0) {
            drained.complete(null);
        }
    }

    long outstanding() {
        return outstanding.sum();
    }

    /** No new I/O will be issued here; the future completes when the last one in flight has finished. */
    CompletableFuture<Void> retire() {
        retired = true;
        if (outstanding.sum() == 0) {
            drained.complete(null);
        }
        return drained;
    }

    boolean retired() {
        return retired;
    }
}
