package io.javastor.ioengine.nvmf.pdu;

/**
 * Command opcodes by the spec's names, shared by our host and our target. Admin opcodes: NVMe base 2.0, figure 138;
 * NVM command set opcodes: NVM Command Set 1.0, figure 18; fabrics command types (FCTYPE, carried in byte 4 of a
 * command with opcode {@link #FABRICS}): NVMe-oF 1.1, figure 13.
 */
public final class NvmeOpcode {
    // Admin command set.
    public static final int GET_LOG_PAGE = 0x02;
    public static final int IDENTIFY = 0x06;
    public static final int ABORT = 0x08;
    public static final int SET_FEATURES = 0x09;
    public static final int GET_FEATURES = 0x0A;
    public static final int ASYNC_EVENT_REQUEST = 0x0C;
    public static final int KEEP_ALIVE = 0x18;

    // NVM command set (I/O queues).
    public static final int FLUSH = 0x00;
    public static final int WRITE = 0x01;
    public static final int READ = 0x02;
    public static final int WRITE_ZEROES = 0x08;
    public static final int DATASET_MANAGEMENT = 0x09;
    public static final int RESERVATION_REGISTER = 0x0D;
    public static final int RESERVATION_REPORT = 0x0E;
    public static final int RESERVATION_ACQUIRE = 0x11;
    public static final int RESERVATION_RELEASE = 0x15;

    /** The fabrics command opcode; the command's FCTYPE says which one. */
    public static final int FABRICS = 0x7F;
    public static final int FCTYPE_PROPERTY_SET = 0x00;
    public static final int FCTYPE_CONNECT = 0x01;
    public static final int FCTYPE_PROPERTY_GET = 0x04;
    public static final int FCTYPE_AUTH_SEND = 0x05;
    public static final int FCTYPE_AUTH_RECEIVE = 0x06;
    /**
     * Authentication Send/Receive CDW10 (NVMe-oF 1.1 + TP 8006; base 2.0, 6.2/6.3): SECP (bits 31:24) E9h = DH-HMAC-CHAP
     * and SPSP1:SPSP0 (bits 23:8) 0101h; CDW11 carries the transfer (TL) or allocation (AL) length.
     */
    public static final int AUTH_CDW10_DHCHAP = (0xE9 << 24) | (0x01 << 16) | (0x01 << 8);

    /** Identify CNS values (base 2.0, figure 273). */
    public static final int CNS_NAMESPACE = 0x00;
    public static final int CNS_CONTROLLER = 0x01;
    public static final int CNS_ACTIVE_NAMESPACES = 0x02;
    public static final int CNS_NAMESPACE_DESCRIPTORS = 0x03;
    public static final int CNS_NAMESPACE_IO_COMMAND_SET = 0x05;
    public static final int CNS_CONTROLLER_IO_COMMAND_SET = 0x06;

    /** Log page identifiers (base 2.0, figure 202; NVMe-oF 1.1, 5.3 for discovery). */
    public static final int LOG_ERROR_INFORMATION = 0x01;
    public static final int LOG_SMART = 0x02;
    public static final int LOG_FIRMWARE_SLOT = 0x03;
    public static final int LOG_CHANGED_NAMESPACES = 0x04;
    public static final int LOG_ANA = 0x0C;
    public static final int LOG_DISCOVERY = 0x70;

    /** Feature identifiers (base 2.0, figure 317). */
    public static final int FEATURE_VOLATILE_WRITE_CACHE = 0x06;
    public static final int FEATURE_NUMBER_OF_QUEUES = 0x07;
    public static final int FEATURE_ASYNC_EVENT_CONFIG = 0x0B;
    public static final int FEATURE_KEEP_ALIVE_TIMER = 0x0F;
    public static final int FEATURE_RESERVATION_PERSISTENCE = 0x83;

    private NvmeOpcode() {
    }
}
