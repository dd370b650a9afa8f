package io.javastor.ioengine.pool;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.DmaBuffers;

/**
 * Copies clusters within a pool's device (copy-on-write after a snapshot) in 1 MiB chunks through a fixed set of
 * buffers: at most {@link #BUFFERS} chunks are in flight per pool, the rest wait for a buffer. A fresh cluster-sized
 * direct buffer per copy cost more than the copy's I/O: the JDK zeroes it, and right after a snapshot, when every
 * write of a random workload copies a cluster at once, the garbage buffers reached the direct-memory limit and each
 * allocation waited for a GC (up to half a second), on the thread that let the held writes go. A disk is busy with
 * 32 MiB of copies in flight; more would only queue in the device instead of here.
 *
 * <p>The buffers are made on first need, one at a time, by one background thread, and each goes to the copy that has
 * waited longest: making 32 MiB of direct memory took 150-175 ms on a KVM guest (the JDK zeroes it, and every page is
 * touched for the first time), and done inline it held up the first snapshot's held writes, or the uring poller
 * thread, for all of that. Now the first copy waits for one buffer (a few ms).
 */
final class ClusterCopier {
    static final int CHUNK = 1 << 20;
    static final int BUFFERS = 32;
    private static final Logger LOG = LoggerFactory.getLogger(ClusterCopier.class);
    private static final Executor BUFFER_MAKER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "copy-buffer-maker");
        t.setDaemon(true);
        return t;
    });

    private final BlockDevice device;
    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    private final ArrayDeque<CompletableFuture<ByteBuffer>> waiting = new ArrayDeque<>();
    private int allocated;

    ClusterCopier(BlockDevice device) {
        this.device = device;
    }

    /** Copies {@code length} bytes from {@code from} to {@code to}; completes when every chunk is written. */
    CompletableFuture<Void> copy(long from, long to, long length) {
        int chunks = (int) ((length + CHUNK - 1) / CHUNK);
        CompletableFuture<?>[] parts = new CompletableFuture<?>[chunks];
        for (int i = 0; i < chunks; i++) {
            long off = (long) i * CHUNK;
            int n = (int) Math.min(CHUNK, length - off);
            parts[i] = buffer().thenCompose(buf -> {
                CompletableFuture<Void> io;
                try {
                    io = device.read(from + off, buf.clear().limit(n)).thenCompose(v -> device.write(to + off, buf.clear().limit(n)));
                } catch (RuntimeException e) { // a device that refuses at once (closed): the buffer still comes back
                    io = CompletableFuture.failedFuture(e);
                }
                return io.whenComplete((v, t) -> release(buf)); // the I/O on it is over, failed or not
            });
        }
        return CompletableFuture.allOf(parts);
    }

    /** A buffer now, or once one is released or made. */
    private CompletableFuture<ByteBuffer> buffer() {
        CompletableFuture<ByteBuffer> b;
        synchronized (this) {
            ByteBuffer f = free.poll();
            if (f != null) {
                return CompletableFuture.completedFuture(f);
            }
            b = new CompletableFuture<>();
            waiting.add(b);
            if (allocated >= BUFFERS) {
                return b;
            }
            allocated++;
        }
        BUFFER_MAKER.execute(this::makeOne);
        return b;
    }

    private void makeOne() {
        ByteBuffer made;
        try {
            made = DmaBuffers.allocate(CHUNK);
        } catch (OutOfMemoryError e) {
            // Out of direct memory: copies go on with the buffers there are; with none, the waiting copies fail (their
            // writes fail with this error) rather than wait for ever.
            List<CompletableFuture<ByteBuffer>> failed = new ArrayList<>();
            synchronized (this) {
                allocated--;
                if (allocated == 0) {
                    failed.addAll(waiting);
                    waiting.clear();
                }
            }
            LOG.error("no direct memory for a copy-on-write buffer ({} in use, {} copies failed)", allocated, failed.size(), e);
            failed.forEach(w -> w.completeExceptionally(e));
            return;
        }
        release(made);
    }

    private void release(ByteBuffer b) {
        CompletableFuture<ByteBuffer> next;
        synchronized (this) {
            next = waiting.poll();
            if (next == null) {
                free.add(b);
                return;
            }
        }
        next.complete(b);
    }
}
