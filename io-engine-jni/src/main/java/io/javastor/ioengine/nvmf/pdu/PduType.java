package io.javastor.ioengine.nvmf.pdu;

/** NVMe/TCP PDU types and common-header constants (NVMe/TCP transport 1.0, section 3.6.1). */
public final class PduType {
    public static final int IC_REQ = 0x00;
    public static final int IC_RESP = 0x01;
    public static final int H2C_TERM_REQ = 0x02;
    public static final int C2H_TERM_REQ = 0x03;
    public static final int CAPSULE_CMD = 0x04;
    public static final int CAPSULE_RESP = 0x05;
    public static final int H2C_DATA = 0x06;
    public static final int C2H_DATA = 0x07;
    public static final int R2T = 0x09;

    /** Common header FLAGS bits (3.6.1). */
    public static final int FLAG_HDGSTF = 0x01;
    public static final int FLAG_DDGSTF = 0x02;
    /** LAST_PDU for H2CData / C2HData (3.6.2.7, 3.6.2.8). */
    public static final int FLAG_LAST_PDU = 0x04;
    /** SUCCESS for C2HData: the command completed, no CapsuleResp follows (3.6.2.8). */
    public static final int FLAG_SUCCESS = 0x08;

    public static final int CH_LEN = 8;
    public static final int IC_LEN = 128;
    public static final int CMD_HLEN = 72;
    public static final int RESP_HLEN = 24;
    public static final int DATA_HLEN = 24;
    public static final int R2T_HLEN = 24;
    public static final int TERM_HLEN = 24;
    /** A TermReq carries at most the offending PDU header: PLEN <= 152 (3.6.2.4). */
    public static final int TERM_MAX_PLEN = 152;
    public static final int DIGEST_LEN = 4;

    /** Fatal Error Status of a TermReq (3.6.2.4, figure 19). */
    public static final int FES_INVALID_HEADER_FIELD = 0x01;
    public static final int FES_PDU_SEQUENCE_ERROR = 0x02;
    public static final int FES_HEADER_DIGEST_ERROR = 0x03;
    public static final int FES_DATA_OUT_OF_RANGE = 0x04;
    public static final int FES_DATA_LIMIT_EXCEEDED = 0x05;
    public static final int FES_UNSUPPORTED_PARAMETER = 0x06;

    private PduType() {
    }

    /** Expected HLEN of each type, or -1 for an unknown type. */
    public static int headerLength(int type) {
        return switch (type) {
            case IC_REQ, IC_RESP -> IC_LEN;
            case H2C_TERM_REQ, C2H_TERM_REQ -> TERM_HLEN;
            case CAPSULE_CMD -> CMD_HLEN;
            case CAPSULE_RESP -> RESP_HLEN;
            case H2C_DATA, C2H_DATA -> DATA_HLEN;
            case R2T -> R2T_HLEN;
            default -> -1;
        };
    }

    /** Types that carry a header digest once it is negotiated (3.3.2). */
    public static boolean carriesDigests(int type) {
        return type >= CAPSULE_CMD && type <= R2T;
    }
}
