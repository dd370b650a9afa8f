package io.javastor.ioengine.nexus;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.device.ForwardingBlockDevice;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A real device (malloc or replica) that can be told to fail (EIO), hang (never answer), or answer late: the
 * failures a nexus child meets, on command. Counts the I/O it was given.
 */
final class ControllableDevice extends ForwardingBlockDevice {
    enum Mode { NORMAL, FAIL_WRITES, FAIL_READS, FAIL_ALL, HANG, HOLD_READS, FAIL_FLUSHES }

    /** A read kept unanswered in HOLD_READS mode, with the buffer a late answer would fill. */
    private record HeldRead(ByteBuffer dst, CompletableFuture<Void> answer) {}

    private final java.util.concurrent.ConcurrentLinkedQueue<HeldRead> held = new java.util.concurrent.ConcurrentLinkedQueue<>();

    private static final ScheduledExecutorService LATER = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "test-device-delay");
        t.setDaemon(true);
        return t;
    });

    volatile Mode mode = Mode.NORMAL;
    volatile long delayMicros;
    final AtomicLong reads = new AtomicLong();
    final AtomicLong writes = new AtomicLong();
    final AtomicLong flushes = new AtomicLong();
    /** Writes since the last flush that completed: what a volatile cache could still lose. */
    final AtomicLong unflushedWrites = new AtomicLong();

    ControllableDevice(BlockDevice inner) {
        super(inner);
    }

    BlockDevice inner() {
        return inner;
    }

    private CompletableFuture<Void> io(boolean write, String op, long offset, long length, Supplier<CompletableFuture<Void>> call) {
        return io(write ? writes : reads, write, op, offset, length, call);
    }

    private CompletableFuture<Void> io(AtomicLong counter, boolean write, String op, long offset, long length, Supplier<CompletableFuture<Void>> call) {
        counter.incrementAndGet();
        Mode m = mode;
        if (m == Mode.HANG) {
            return new CompletableFuture<>();
        }
        if (m == Mode.FAIL_ALL || (write && m == Mode.FAIL_WRITES) || (!write && m == Mode.FAIL_READS)) {
            return CompletableFuture.failedFuture(new BlockIoException(BlockIoException.EIO, op, uri(), offset, length, "injected failure"));
        }
        long d = delayMicros;
        if (d == 0) {
            return call.get();
        }
        CompletableFuture<Void> f = new CompletableFuture<>();
        LATER.schedule(() -> call.get().whenComplete((v, t) -> {
            if (t == null) {
                f.complete(null);
            } else {
                f.completeExceptionally(t);
            }
        }), d, TimeUnit.MICROSECONDS);
        return f;
    }

    @Override
    public CompletableFuture<Void> read(long offset, ByteBuffer dst) {
        if (mode == Mode.HOLD_READS) {
            reads.incrementAndGet();
            CompletableFuture<Void> answer = new CompletableFuture<>();
            held.add(new HeldRead(dst, answer));
            return answer;
        }
        return io(false, "read", offset, dst.remaining(), () -> inner.read(offset, dst));
    }

    int heldReads() {
        return held.size();
    }

    /** Answers the held reads now, as a slow disk's late DMA would: their buffers get {@code fill}. */
    void answerHeldReads(byte fill) {
        for (HeldRead r; (r = held.poll()) != null; ) {
            for (int i = r.dst.position(); i < r.dst.limit(); i++) {
                r.dst.put(i, fill);
            }
            r.answer.complete(null);
        }
    }

    @Override
    public CompletableFuture<Void> write(long offset, ByteBuffer src) {
        return io(true, "write", offset, src.remaining(), () -> inner.write(offset, src)).thenRun(unflushedWrites::incrementAndGet);
    }

    @Override
    public CompletableFuture<Void> writeZeroes(long offset, long length) {
        return io(true, "write-zeroes", offset, length, () -> inner.writeZeroes(offset, length));
    }

    @Override
    public CompletableFuture<Void> unmap(long offset, long length) {
        return io(true, "unmap", offset, length, () -> inner.unmap(offset, length));
    }

    @Override
    public CompletableFuture<Void> flush() {
        if (mode == Mode.FAIL_FLUSHES) {
            flushes.incrementAndGet();
            return CompletableFuture.failedFuture(new BlockIoException(BlockIoException.EIO, "flush", uri(), 0, 0, "injected flush failure"));
        }
        long before = unflushedWrites.get();
        return io(flushes, true, "flush", 0, 0, inner::flush).thenRun(() -> unflushedWrites.addAndGet(-before));
    }

    /** The nexus closes children it retires; these stay usable so tests can re-add them. */
    @Override
    public void close() {
    }
}
