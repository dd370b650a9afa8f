package io.javastor.ioengine.pool;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.DmaBuffers;

/**
 * Copies clusters within a pool's device (copy-on-write after a snapshot) in 1 MiB chunks through a fixed set of
 * buffers: at most {@link #BUFFERS} chunks are in flight per pool, the rest wait for a buffer. A fresh cluster-sized
 * direct buffer per copy cost more than the copy's I/O: the JDK zeroes it, and right after a snapshot, when every
 * write of a random workload copies a cluster at once, the garbage buffers reached the direct-memory limit and each
 * allocation waited for a GC (up to half a second), on the thread that let the held writes go. A disk is busy with
 * 32 MiB of copies in flight; more would only queue in the device instead of here.
 */
final class ClusterCopier {
    static final int CHUNK = 1 << 20;
    static final int BUFFERS = 32;

    private final BlockDevice device;
    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    private final ArrayDeque<Consumer<ByteBuffer>> waiting = new ArrayDeque<>();
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
            CompletableFuture<Void> part = new CompletableFuture<>();
            parts[i] = part;
            withBuffer(buf -> device.read(from + off, buf.clear().limit(n))
                    .thenCompose(v -> device.write(to + off, buf.clear().limit(n)))
                    .whenComplete((v, t) -> {
                        release(buf); // the I/O on it is over, failed or not
                        if (t != null) {
                            part.completeExceptionally(t);
                        } else {
                            part.complete(null);
                        }
                    }));
        }
        return CompletableFuture.allOf(parts);
    }

    /** Runs {@code use} with a buffer now, or when one is released. */
    private void withBuffer(Consumer<ByteBuffer> use) {
        ByteBuffer b;
        synchronized (this) {
            b = free.poll();
            if (b == null) {
                if (allocated >= BUFFERS) {
                    waiting.add(use);
                    return;
                }
                allocated++;
            }
        }
        use.accept(b != null ? b : DmaBuffers.allocate(CHUNK));
    }

    private void release(ByteBuffer b) {
        Consumer<ByteBuffer> next;
        synchronized (this) {
            next = waiting.poll();
            if (next == null) {
                free.add(b);
                return;
            }
        }
        next.accept(b);
    }
}
