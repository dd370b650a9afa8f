package io.javastor.ioengine.device.malloc;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockIoException;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * A RAM disk in Java memory. For tests and demos; its data dies with the process. Completes I/O on
 * the caller's thread. Memory is a list of 1 MiB chunks so a device can exceed 2 GiB.
 */
public class MallocBlockDevice implements BlockDevice {
    /**
     * 256 KiB: below half of G1's smallest region (1 MiB), so a chunk is an ordinary object. 1 MiB chunks were
     * "humongous" there and each took two regions: a RAM disk cost twice its size and ran small heaps out of memory.
     */
    private static final int CHUNK_SHIFT = 18;
    private static final int CHUNK = 1 << CHUNK_SHIFT;

    private final String uri;
    private final long size;
    private final int blockSize;
    private final ByteBuffer[] chunks;
    private volatile boolean closed;

    public MallocBlockDevice(String uri, long size, int blockSize) {
        if (size <= 0 || size % blockSize != 0) {
            throw new IllegalArgumentException("malloc device size must be a positive multiple of " + blockSize);
        }
        this.uri = uri;
        this.size = size;
        this.blockSize = blockSize;
        this.chunks = new ByteBuffer[(int) ((size + CHUNK - 1) >>> CHUNK_SHIFT)];
        for (int i = 0; i < chunks.length; i++) {
            chunks[i] = ByteBuffer.allocate(CHUNK);
        }
    }

    /** Memory lives as long as this object: one instance for its whole life. */
    private final String instance = "malloc-" + java.util.UUID.randomUUID();

    @Override
    public String instanceId() {
        return instance;
    }

    @Override
    public String uri() {
        return uri;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public CompletableFuture<Void> read(long offset, ByteBuffer dst) {
        return run("read", offset, dst.remaining(), () -> copy(offset, dst.duplicate(), false));
    }

    @Override
    public CompletableFuture<Void> write(long offset, ByteBuffer src) {
        return run("write", offset, src.remaining(), () -> copy(offset, src.duplicate(), true));
    }

    @Override
    public CompletableFuture<Void> flush() {
        return run("flush", 0, 0, () -> { });
    }

    @Override
    public CompletableFuture<Void> unmap(long offset, long length) {
        return writeZeroes(offset, length);
    }

    @Override
    public CompletableFuture<Void> writeZeroes(long offset, long length) {
        return run("write-zeroes", offset, length, () -> {
            long pos = offset;
            long left = length;
            while (left > 0) {
                ByteBuffer c = chunks[(int) (pos >>> CHUNK_SHIFT)];
                int in = (int) (pos & (CHUNK - 1));
                int n = (int) Math.min(left, CHUNK - in);
                java.util.Arrays.fill(c.array(), in, in + n, (byte) 0);
                pos += n;
                left -= n;
            }
        });
    }

    /** Copies between the device and {@code buf} (position..limit). Synchronised per chunk, as a disk does per sector. */
    protected void copy(long offset, ByteBuffer buf, boolean toDevice) {
        long pos = offset;
        while (buf.hasRemaining()) {
            ByteBuffer c = chunks[(int) (pos >>> CHUNK_SHIFT)];
            int in = (int) (pos & (CHUNK - 1));
            int n = Math.min(buf.remaining(), CHUNK - in);
            synchronized (c) {
                if (toDevice) {
                    buf.get(c.array(), in, n);
                } else {
                    buf.put(c.array(), in, n);
                }
            }
            pos += n;
        }
    }

    private CompletableFuture<Void> run(String op, long offset, long length, Runnable action) {
        try {
            if (closed) {
                throw new BlockIoException(BlockIoException.ESHUTDOWN, op, uri, offset, length, "device closed");
            }
            if (!op.equals("flush")) {
                checkRange(op, offset, length);
            }
            action.run();
            return CompletableFuture.completedFuture(null);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "MallocBlockDevice[" + uri + ", " + size + " bytes]";
    }
}
