package io.javastor.ioengine.device.uring;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.device.DmaBuffers;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/** A file or block device opened with O_DIRECT, driven through a shared {@link UringReactor}. */
public final class UringBlockDevice implements BlockDevice {
    private static final int ZERO_CHUNK = 1 << 20;
    private static final ByteBuffer ZEROES = DmaBuffers.allocate(ZERO_CHUNK).asReadOnlyBuffer();

    private final String uri;
    private final Path path;
    private final int fd;
    private final long size;
    private final int blockSize;
    private final UringReactor reactor;
    private final AtomicBoolean closed = new AtomicBoolean();
    /**
     * Native operations between their submission and their completion. Each holds the fd open: an operation handed
     * to a reactor's poller names the fd by number until the poller enters the kernel with it, so close() only marks
     * the device and the last operation out closes the fd; a queued operation can never reach a recycled number.
     */
    private final java.util.concurrent.atomic.AtomicInteger operations = new java.util.concurrent.atomic.AtomicInteger();
    private final AtomicBoolean fdClosed = new AtomicBoolean();
    /** Set when the file system refuses FALLOC_FL_ZERO_RANGE (tmpfs, some block devices): zeroes are then written. */
    private volatile boolean zeroRangeUnsupported;
    private volatile boolean discardUnsupported;

    private UringBlockDevice(String uri, Path path, int fd, long size, int blockSize, UringReactor reactor) {
        this.uri = uri;
        this.path = path;
        this.fd = fd;
        this.size = size;
        this.blockSize = blockSize;
        this.reactor = reactor;
    }

    /**
     * Opens {@code path} for O_DIRECT I/O. With {@code createSizeBytes > 0} a missing (or empty) regular file is
     * created sparse at that size (dev pools); an existing file keeps its size; otherwise a missing file is an error.
     */
    public static UringBlockDevice open(String uri, Path path, long createSizeBytes, UringReactor reactor) {
        NativeIo.load();
        boolean create = createSizeBytes > 0;
        int fd = NativeIo.open(path.toString(), create, true);
        if (fd < 0) {
            throw new IllegalArgumentException("cannot open " + path + " for disk URI '" + uri + "': "
                    + NativeIo.strerror(-fd) + (fd == -2 ? " (the file must exist; add ?size_mb=N to create a dev file)" : "")
                    + (fd == -BlockIoException.EBUSY ? " (the device is in use: mounted, or held by device-mapper, LVM, MD RAID or another program)" : ""));
        }
        long size = NativeIo.size(fd);
        // Only a file this call created (empty) is sized: size_mb never extends an existing file, which may be anything.
        if (size == 0 && create) {
            int rc = NativeIo.truncate(fd, createSizeBytes);
            if (rc < 0) {
                NativeIo.close(fd);
                throw new IllegalArgumentException("cannot size " + path + " to " + createSizeBytes + " bytes: " + NativeIo.strerror(-rc));
            }
            size = createSizeBytes;
        }
        if (size < 0) {
            NativeIo.close(fd);
            throw new IllegalArgumentException(path + " is neither a regular file nor a block device ("
                    + NativeIo.strerror((int) -size) + ")");
        }
        int bs = NativeIo.directIoAlignment(fd);
        if (bs <= 0 || bs > DmaBuffers.ALIGNMENT || Integer.bitCount(bs) != 1) {
            NativeIo.close(fd);
            throw new IllegalArgumentException(path + " needs an unsupported direct I/O alignment (" + bs + ")");
        }
        long usable = size - size % bs;
        return new UringBlockDevice(uri, path, fd, usable, Math.max(bs, 512), reactor);
    }

    public Path path() {
        return path;
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
    public int bufferAlignment() {
        return blockSize;
    }

    @Override
    public CompletableFuture<Void> read(long offset, ByteBuffer dst) {
        return rw(NativeIo.OP_READ, "read", offset, dst);
    }

    @Override
    public CompletableFuture<Void> write(long offset, ByteBuffer src) {
        return rw(NativeIo.OP_WRITE, "write", offset, src);
    }

    /** One write with RWF_DSYNC instead of a write and a device-wide flush. */
    @Override
    public CompletableFuture<Void> writeFua(long offset, ByteBuffer src) {
        return rw(NativeIo.OP_WRITE_FUA, "write-fua", offset, src);
    }

    private CompletableFuture<Void> rw(int op, String name, long offset, ByteBuffer buf) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        int len = buf.remaining();
        try {
            checkOpen(name, offset, len);
            checkRange(name, offset, len);
            if (!DmaBuffers.isAligned(buf, blockSize)) {
                throw new BlockIoException(BlockIoException.EINVAL, name, uri, offset, len,
                        "buffer must be direct and aligned to " + blockSize + " bytes (use DmaBuffers)");
            }
        } catch (BlockIoException e) {
            f.completeExceptionally(e);
            return f;
        }
        if (len == 0) {
            f.complete(null);
            return f;
        }
        long addr = NativeIo.bufferAddress(buf) + buf.position();
        submitRw(op, name, addr, len, offset, 0, f, buf);
        return f;
    }

    /** Submits and resubmits the remainder of a short transfer (rare with O_DIRECT, but legal). */
    private void submitRw(int op, String name, long addr, int len, long offset, int done, CompletableFuture<Void> f, ByteBuffer keepAlive) {
        submitNative(op, addr + done, len - done, offset + done, res -> {
            if (res < 0) {
                f.completeExceptionally(new BlockIoException(-res, name, uri, offset, len, NativeIo.strerror(-res)));
            } else if (res == 0) {
                f.completeExceptionally(new BlockIoException(BlockIoException.EIO, name, uri, offset, len,
                        "short transfer at the end of the device"));
            } else if (done + res < len) {
                submitRw(op, name, addr, len, offset, done + res, f, keepAlive);
            } else {
                f.complete(null);
            }
        });
    }

    @Override
    public CompletableFuture<Void> flush() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        if (closed.get()) {
            f.completeExceptionally(new BlockIoException(BlockIoException.ESHUTDOWN, "flush", uri, 0, 0, "device closed"));
            return f;
        }
        submitNative(NativeIo.OP_DATASYNC, 0, 0, 0, res -> complete(f, res, "flush", 0, 0));
        return f;
    }

    @Override
    public CompletableFuture<Void> unmap(long offset, long length) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        try {
            checkOpen("unmap", offset, length);
            checkRange("unmap", offset, length);
        } catch (BlockIoException e) {
            f.completeExceptionally(e);
            return f;
        }
        if (length == 0 || discardUnsupported) {
            f.complete(null); // discard is advisory
            return f;
        }
        submitNative(NativeIo.OP_DISCARD, 0, length, offset, res -> {
            if (res == -BlockIoException.EOPNOTSUPP) {
                discardUnsupported = true;
                f.complete(null);
            } else {
                complete(f, res, "unmap", offset, length);
            }
        });
        return f;
    }

    @Override
    public CompletableFuture<Void> writeZeroes(long offset, long length) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        try {
            checkOpen("write-zeroes", offset, length);
            checkRange("write-zeroes", offset, length);
        } catch (BlockIoException e) {
            f.completeExceptionally(e);
            return f;
        }
        if (length == 0) {
            f.complete(null);
            return f;
        }
        if (zeroRangeUnsupported) {
            writeZeroBuffers(offset, length, f);
            return f;
        }
        submitNative(NativeIo.OP_WRITE_ZEROES, 0, length, offset, res -> {
            if (res == -BlockIoException.EOPNOTSUPP || res == -BlockIoException.EINVAL) {
                zeroRangeUnsupported = true;
                writeZeroBuffers(offset, length, f);
            } else {
                complete(f, res, "write-zeroes", offset, length);
            }
        });
        return f;
    }

    private void writeZeroBuffers(long offset, long length, CompletableFuture<Void> f) {
        int chunk = (int) Math.min(ZERO_CHUNK, length);
        write(offset, ZEROES.duplicate().position(0).limit(chunk)).whenComplete((v, t) -> {
            if (t != null) {
                f.completeExceptionally(t);
            } else if (length > chunk) {
                writeZeroBuffers(offset + chunk, length - chunk, f);
            } else {
                f.complete(null);
            }
        });
    }

    /** One native operation on this device's fd, on the calling thread's reactor; ESHUTDOWN once the device is closed. */
    private void submitNative(int op, long addr, long len, long offset, UringReactor.Completion completion) {
        operations.incrementAndGet();
        if (closed.get()) { // read after counting: close() either sees this operation or this sees the close
            operationDone();
            completion.accept(-BlockIoException.ESHUTDOWN);
            return;
        }
        UringReactor.forThisThread(reactor).submit(op, fd, addr, len, offset, res -> {
            operationDone();
            completion.accept(res);
        });
    }

    private void operationDone() {
        if (operations.decrementAndGet() == 0 && closed.get()) {
            closeFd();
        }
    }

    private void closeFd() {
        if (fdClosed.compareAndSet(false, true)) {
            NativeIo.close(fd);
        }
    }

    private void complete(CompletableFuture<Void> f, int res, String op, long offset, long length) {
        if (res < 0) {
            f.completeExceptionally(new BlockIoException(-res, op, uri, offset, length, NativeIo.strerror(-res)));
        } else {
            f.complete(null);
        }
    }

    private void checkOpen(String op, long offset, long length) {
        if (closed.get()) {
            throw new BlockIoException(BlockIoException.ESHUTDOWN, op, uri, offset, length, "device closed");
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true) && operations.get() == 0) {
            closeFd(); // otherwise the last operation in flight closes it
        }
    }

    @Override
    public String toString() {
        return "UringBlockDevice[" + uri + ", " + size + " bytes, block " + blockSize + "]";
    }
}
