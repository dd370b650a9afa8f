package io.javastor.ioengine.device.uring;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The JNI boundary: thin wrappers over open/ioctl and liburing. Every call returns -errno on failure.
 * The library comes from {@code -Djavastor.native.lib=/path/libjavastor_uring.so} or from the jar.
 */
public final class NativeIo {
    static final int OP_READ = 0;
    static final int OP_WRITE = 1;
    static final int OP_FSYNC = 2;
    static final int OP_DATASYNC = 3;
    static final int OP_DISCARD = 4;
    static final int OP_WRITE_ZEROES = 5;
    static final int OP_NOP = 6;
    /** A write with RWF_DSYNC: durable when it completes (FUA on a block device). */
    static final int OP_WRITE_FUA = 7;

    private static final String RESOURCE = "/native/linux-x86_64/libjavastor_uring.so";
    private static volatile Throwable loadFailure;
    private static volatile boolean loaded;

    private NativeIo() {
    }

    /** Loads the native library once; throws {@link NativeUnavailableException} saying why it cannot. */
    public static synchronized void load() {
        if (loaded) {
            return;
        }
        if (loadFailure != null) {
            throw new NativeUnavailableException(loadFailure);
        }
        try {
            if (!System.getProperty("os.name", "").toLowerCase().contains("linux")
                    || !System.getProperty("os.arch", "").matches("amd64|x86_64")) {
                throw new UnsupportedOperationException("io_uring engine needs Linux on x86_64, this is "
                        + System.getProperty("os.name") + "/" + System.getProperty("os.arch"));
            }
            String explicit = System.getProperty("javastor.native.lib");
            if (explicit != null && !explicit.isBlank() && Files.exists(Path.of(explicit))) {
                System.load(Path.of(explicit).toAbsolutePath().toString());
            } else {
                System.load(extract().toString());
            }
            loaded = true;
        } catch (Throwable t) {
            loadFailure = t;
            throw new NativeUnavailableException(t);
        }
    }

    public static boolean isAvailable() {
        try {
            load();
            return true;
        } catch (NativeUnavailableException e) {
            return false;
        }
    }

    private static Path extract() throws IOException {
        try (InputStream in = NativeIo.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new UncheckedIOException(new IOException("native library " + RESOURCE + " is not in the jar"));
            }
            Path tmp = Files.createTempFile("libjavastor_uring", ".so");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            tmp.toFile().deleteOnExit();
            return tmp;
        }
    }

    static native int open(String path, boolean create, boolean direct);

    static native int close(int fd);

    static native long size(int fd);

    static native int directIoAlignment(int fd);

    static native int truncate(int fd, long size);

    static native long ringCreate(int entries, int sqpollIdleMs, boolean singleIssuer);

    static native void ringDestroy(long ring);

    static native int submit(long ring, int op, int fd, long addr, long len, long offset, long userData);

    /** Prepares an SQE without entering the kernel; {@link #flush} submits all prepared ones. */
    static native int queue(long ring, int op, int fd, long addr, long len, long offset, long userData);

    static native int flush(long ring);

    static native int reap(long ring, long outAddr, int max, long waitNanos, boolean submitQueued);

    static native long bufferAddress(ByteBuffer buffer);

    /** An eventfd the kernel signals on each completion of the ring once enabled; returns fd or -errno. */
    static native int eventFdCreate(long ring);

    static native int eventFdEnable(long ring, boolean on);

    /** A blocking eventfd of its own (no ring): a single-issuer ring's poller keeps a read of it queued to be woken. */
    static native int wakeFdCreate();

    /** Adds 1 to an eventfd's counter: wakes whoever reads or polls it. */
    static native int eventFdSignal(int fd);

    static native boolean ready(long ring);

    /** The calling thread's timer slack (how late the kernel may end its timed sleeps); 0 or -errno. */
    static native int setTimerSlack(long nanos);

    static native String strerror(int errno);

    /** The native engine cannot run here: the io-engine refuses to start with this message. */
    public static final class NativeUnavailableException extends RuntimeException {
        NativeUnavailableException(Throwable cause) {
            super("the native io_uring library (libjavastor_uring.so) cannot be loaded: " + cause.getMessage()
                    + ". The io-engine needs Linux x86_64 with io_uring and liburing2 installed; only malloc:/// devices work without it.",
                    cause);
        }
    }
}
