package io.javastor.ioengine.nexus;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.DmaBuffers;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A sustained random 4 KiB write (and read-verify) load that knows what was acknowledged: every block carries its own
 * offset and a sequence number, each slot owns its own blocks (block % slots == slot) and has one I/O in flight, so the
 * acknowledged sequence of every block is exact and a read of it must return exactly that.
 */
final class VerifyingWorkload {
    static final int BS = 4096;

    private final BlockDevice device;
    private final int slots;
    private final long blocks;
    private final AtomicLongArray acked;
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong reads = new AtomicLong();
    final List<String> errors = new CopyOnWriteArrayList<>();
    private volatile boolean stop;
    private final CompletableFuture<?>[] done;

    /** Writes blocks of [0, regionBytes) of the device. */
    VerifyingWorkload(BlockDevice device, long regionBytes, int slots) {
        this.device = device;
        this.slots = slots;
        this.blocks = regionBytes / BS;
        this.acked = new AtomicLongArray((int) blocks);
        this.done = new CompletableFuture<?>[slots];
    }

    static ByteBuffer block(long offset, long seq) {
        ByteBuffer b = DmaBuffers.allocate(BS);
        b.putLong(0, offset).putLong(8, seq);
        for (int i = 16; i < BS; i += 8) {
            b.putLong(i, offset * 31 + seq * 17 + i);
        }
        return b;
    }

    VerifyingWorkload start() {
        for (int s = 0; s < slots; s++) {
            done[s] = new CompletableFuture<Void>();
            int slot = s;
            Thread t = new Thread(() -> next(slot, new SplittableRandom(slot * 7919L + 1), 0), "workload-" + s);
            t.setDaemon(true);
            t.start();
        }
        return this;
    }

    long writes() {
        return writes.get();
    }

    long reads() {
        return reads.get();
    }

    long ackedSeq(long block) {
        return acked.get((int) block);
    }

    long blocks() {
        return blocks;
    }

    private void next(int slot, SplittableRandom rnd, long counter) {
        if (stop) {
            done[slot].complete(null);
            return;
        }
        long blk = rnd.nextLong(blocks / slots) * slots + slot;
        long off = blk * BS;
        if (rnd.nextInt(5) == 0) {
            ByteBuffer b = DmaBuffers.allocate(BS);
            device.read(off, b).whenComplete((v, t) -> {
                if (t != null) {
                    errors.add("read at " + off + ": " + t);
                } else {
                    String bad = check(off, b, acked.get((int) blk));
                    if (bad != null) {
                        errors.add(bad);
                    }
                    reads.incrementAndGet();
                }
                next(slot, rnd, counter + 1);
            });
            return;
        }
        long seq = ((long) slot << 40) + counter + 1;
        device.write(off, block(off, seq)).whenComplete((v, t) -> {
            if (t != null) {
                errors.add("write at " + off + ": " + t);
            } else {
                acked.set((int) blk, seq);
                writes.incrementAndGet();
            }
            next(slot, rnd, counter + 1);
        });
    }

    /** Null when {@code b} (block at {@code off}) holds what was acknowledged last (zeroes when never written). */
    static String check(long off, ByteBuffer b, long expectSeq) {
        ByteBuffer want = expectSeq == 0 ? DmaBuffers.allocate(BS) : block(off, expectSeq);
        if (b.duplicate().clear().equals(want.clear())) {
            return null;
        }
        return "block at " + off + ": expected seq " + expectSeq + ", found offset stamp " + b.getLong(0) + " seq " + b.getLong(8);
    }

    void stop() throws Exception {
        stop = true;
        CompletableFuture.allOf(done).get(60, TimeUnit.SECONDS);
    }

    /** Reads every block of the region back from {@code d} and returns the mismatches with what was acknowledged. */
    List<String> verifyAll(BlockDevice d) throws Exception {
        List<String> bad = new CopyOnWriteArrayList<>();
        ByteBuffer chunk = DmaBuffers.allocate(1 << 20);
        for (long off = 0; off < blocks * BS; off += chunk.capacity()) {
            chunk.clear();
            d.read(off, chunk).get(30, TimeUnit.SECONDS);
            for (int i = 0; i < chunk.capacity() && off + i < blocks * BS; i += BS) {
                String m = check(off + i, chunk.slice(i, BS), acked.get((int) ((off + i) / BS)));
                if (m != null) {
                    bad.add(d.uri() + ": " + m);
                }
            }
        }
        return bad;
    }
}
