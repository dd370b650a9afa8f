package io.javastor.ioengine.nvmf.pdu;

/** Completion status values: (DNR << 15) | (SCT << 9) | (SC << 1) (NVMe base 2.0, 4.6.1). */
public final class NvmeStatus {
    public static final int SUCCESS = 0;

    // Generic command status, SCT 0 (base 2.0, figure 100).
    public static final int INVALID_OPCODE = generic(0x01);
    public static final int INVALID_FIELD = generic(0x02);
    public static final int CID_CONFLICT = generic(0x03);
    public static final int DATA_TRANSFER_ERROR = generic(0x04);
    public static final int INTERNAL_ERROR = generic(0x06);
    public static final int ABORT_REQUESTED = generic(0x07);
    public static final int INVALID_NAMESPACE = generic(0x0B);
    public static final int COMMAND_SEQUENCE_ERROR = generic(0x0C);
    public static final int DATA_SGL_LENGTH_INVALID = generic(0x0F);
    public static final int SGL_DESCRIPTOR_TYPE_INVALID = generic(0x11);
    public static final int SGL_OFFSET_INVALID = generic(0x16);
    /** Not processed now (a resource cap was reached); without DNR, so the host retries it (base 2.0, figure 102). */
    public static final int COMMAND_INTERRUPTED = (0 << 9) | (0x21 << 1);
    public static final int TRANSIENT_TRANSPORT_ERROR = (0 << 9) | (0x22 << 1);
    public static final int HOST_ID_INCONSISTENT_FORMAT = generic(0x18);
    public static final int LBA_OUT_OF_RANGE = generic(0x80);
    /** The namespace's reservations shut this host out (base 2.0, 8.19): retrying cannot help. */
    public static final int RESERVATION_CONFLICT = generic(0x83);

    // Command specific status, SCT 1.
    public static final int FEATURE_NOT_SAVEABLE = specific(0x0D);
    public static final int ASYNC_EVENT_LIMIT_EXCEEDED = specific(0x05);
    public static final int INVALID_LOG_PAGE = specific(0x09);
    /** Fabrics Connect (NVMe-oF 1.1, figure 21). */
    public static final int CONNECT_INCOMPATIBLE_FORMAT = specific(0x80);
    public static final int CONNECT_CONTROLLER_BUSY = specific(0x81);
    public static final int CONNECT_INVALID_PARAMETERS = specific(0x82);
    public static final int CONNECT_INVALID_HOST = specific(0x84);
    /** The queue has not completed in-band authentication (base 2.0, figure 103). */
    public static final int AUTH_REQUIRED = specific(0x91);

    /** Status code type 3: path related (base 2.0, figure 104). */
    public static final int SCT_PATH = 3;

    // Path related status, SCT 3 (base 2.0, figure 104): without DNR, so a multipath host fails the I/O over.
    public static final int ANA_PERSISTENT_LOSS = (3 << 9) | (0x01 << 1);
    public static final int ANA_INACCESSIBLE = (3 << 9) | (0x02 << 1);
    public static final int ANA_TRANSITION = (3 << 9) | (0x03 << 1);

    // Media and data integrity errors, SCT 2.
    public static final int WRITE_FAULT = (2 << 9) | (0x80 << 1) | DNR();
    public static final int UNRECOVERED_READ_ERROR = (2 << 9) | (0x81 << 1) | DNR();

    private NvmeStatus() {
    }

    private static int DNR() {
        return 1 << 15;
    }

    private static int generic(int sc) {
        return (sc << 1) | DNR();
    }

    private static int specific(int sc) {
        return (1 << 9) | (sc << 1) | DNR();
    }

    /** The same status without Do Not Retry: the host may try the command again later. */
    public static int retryable(int status) {
        return status & ~DNR();
    }

    /** Whether {@code status} is {@code expected} by its type and code (SCT, SC), whatever its DNR, More and CRD bits. */
    public static boolean is(int status, int expected) {
        return (status & 0x0FFE) == (expected & 0x0FFE);
    }

    public static int sct(int status) {
        return (status >> 9) & 0x7;
    }

    public static int sc(int status) {
        return (status >> 1) & 0xFF;
    }

    public static String describe(int status) {
        return String.format("sct=%d sc=0x%02x%s", sct(status), sc(status), (status & 0x8000) != 0 ? " dnr" : "");
    }
}
