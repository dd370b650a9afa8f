package io.javastor.ioengine.pool;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.device.malloc.MallocBlockDevice;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/**
 * A disk with a volatile write cache that loses power at a chosen mutating operation.
 *
 * <p>Reads see every completed write. Only flushed writes are durable. At the cut (the N-th write,
 * write-zeroes, unmap or flush), the operation in progress is torn (a random subset of its 512-byte
 * sectors reaches the media), each sector of every unflushed write independently does or does not
 * reach the media, and every later operation fails with EIO. {@link #durableImage()} is then what a
 * reboot would find.
 */
final class PowerCutDevice implements BlockDevice {
    private static final int SECTOR = 512;

    private record PendingWrite(long offset, byte[] data) {
    }

    private final long size;
    private final byte[] visible;
    private final byte[] durable;
    private final List<PendingWrite> pending = new ArrayList<>();
    private final long cutAt;
    private final SplittableRandom rnd;
    private long mutations;
    private boolean dead;

    PowerCutDevice(long size, long cutAt, long seed) {
        this.size = size;
        this.visible = new byte[(int) size];
        this.durable = new byte[(int) size];
        this.cutAt = cutAt;
        this.rnd = new SplittableRandom(seed);
    }

    /** Number of mutating operations seen so far (a run without a cut counts the cut points). */
    synchronized long mutations() {
        return mutations;
    }

    synchronized boolean isDead() {
        return dead;
    }

    /** The media after the power cut, as a fresh device to import from. */
    synchronized BlockDevice durableImage() {
        MallocBlockDevice d = new MallocBlockDevice("malloc:///after-cut", size, SECTOR);
        d.write(0, ByteBuffer.wrap(durable)).join();
        return d;
    }

    @Override
    public String uri() {
        return "malloc:///power-cut";
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int blockSize() {
        return SECTOR;
    }

    @Override
    public synchronized CompletableFuture<Void> read(long offset, ByteBuffer dst) {
        if (dead) {
            return eio("read", offset, dst.remaining());
        }
        checkRange("read", offset, dst.remaining());
        dst.duplicate().put(visible, (int) offset, dst.remaining());
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public synchronized CompletableFuture<Void> write(long offset, ByteBuffer src) {
        byte[] data = new byte[src.remaining()];
        src.duplicate().get(data);
        return mutate("write", offset, data);
    }

    @Override
    public synchronized CompletableFuture<Void> writeZeroes(long offset, long length) {
        return mutate("write-zeroes", offset, new byte[(int) length]);
    }

    @Override
    public synchronized CompletableFuture<Void> unmap(long offset, long length) {
        return mutate("unmap", offset, new byte[(int) length]);
    }

    @Override
    public synchronized CompletableFuture<Void> flush() {
        if (dead) {
            return eio("flush", 0, 0);
        }
        if (++mutations == cutAt) {
            cut(null);
            return eio("flush", 0, 0);
        }
        for (PendingWrite w : pending) {
            System.arraycopy(w.data, 0, durable, (int) w.offset, w.data.length);
        }
        pending.clear();
        return CompletableFuture.completedFuture(null);
    }

    private CompletableFuture<Void> mutate(String op, long offset, byte[] data) {
        if (dead) {
            return eio(op, offset, data.length);
        }
        checkRange(op, offset, data.length);
        if (++mutations == cutAt) {
            cut(new PendingWrite(offset, data));
            return eio(op, offset, data.length);
        }
        System.arraycopy(data, 0, visible, (int) offset, data.length);
        pending.add(new PendingWrite(offset, data));
        return CompletableFuture.completedFuture(null);
    }

    /** Power is lost: some sectors of the cache and of the torn write reach the media, in any order. */
    private void cut(PendingWrite torn) {
        List<PendingWrite> all = new ArrayList<>(pending);
        if (torn != null) {
            all.add(torn);
        }
        for (PendingWrite w : all) {
            for (int s = 0; s < w.data.length; s += SECTOR) {
                if (rnd.nextBoolean()) {
                    System.arraycopy(w.data, s, durable, (int) w.offset + s, Math.min(SECTOR, w.data.length - s));
                }
            }
        }
        pending.clear();
        dead = true;
    }

    private CompletableFuture<Void> eio(String op, long offset, long length) {
        return CompletableFuture.failedFuture(new BlockIoException(BlockIoException.EIO, op, uri(), offset, length, "power lost"));
    }

    @Override
    public void close() {
    }
}
