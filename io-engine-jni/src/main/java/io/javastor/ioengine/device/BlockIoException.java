package io.javastor.ioengine.device;

/** An I/O that failed, with the errno the kernel (or our own checks) gave. */
public class BlockIoException extends RuntimeException {
    public static final int EIO = 5;
    public static final int ENOMEM = 12;
    /** Permission denied: the target refused our authentication (or we refused the target's). */
    public static final int EACCES = 13;
    public static final int EBUSY = 16;
    public static final int EINVAL = 22;
    /** Reservation conflict: the namespace's reservations shut this host out (what Linux maps NVMe's status to). */
    public static final int EBADE = 52;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int ERANGE = 34;
    /** Path error: the target says this path serves no I/O now (ANA Inaccessible, Persistent Loss, Transition). */
    public static final int ENOLINK = 67;
    public static final int EOPNOTSUPP = 95;
    public static final int ESHUTDOWN = 108;
    public static final int ETIMEDOUT = 110;

    private final int errno;
    private final String op;
    private final String device;
    private final long offset;
    private final long length;

    public BlockIoException(int errno, String op, String device, long offset, long length, String detail) {
        super(op + " of " + length + " bytes at " + offset + " on " + device + " failed: errno " + errno
                + (detail == null || detail.isEmpty() ? "" : " (" + detail + ")"));
        this.errno = errno;
        this.op = op;
        this.device = device;
        this.offset = offset;
        this.length = length;
    }

    public int errno() {
        return errno;
    }

    public String op() {
        return op;
    }

    public String device() {
        return device;
    }

    public long offset() {
        return offset;
    }

    public long length() {
        return length;
    }

    /** The BlockIoException inside a CompletionException chain, if any. */
    public static BlockIoException unwrap(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof BlockIoException b) {
                return b;
            }
        }
        return null;
    }
}
