package io.javastor.ioengine.nvmf.pdu;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;

/**
 * The NVMe/TCP PDUs (NVMe/TCP transport 1.0, 3.6.2), decoded. PDUs that carry data own their
 * {@code data} buffer: whoever consumes the PDU (the encoder when sent, a handler when received) releases it.
 */
public sealed interface Pdu {

    /** Releases the data buffer, if any. */
    default void release() {
    }

    /** ICReq (3.6.2.2): PFV, HPDA, DGST (bit 0 HDGST_ENABLE, bit 1 DDGST_ENABLE), MAXR2T (0's based). */
    record IcReq(int pfv, int hpda, boolean headerDigest, boolean dataDigest, int maxr2t) implements Pdu {
    }

    /** ICResp (3.6.2.3): PFV, CPDA, DGST, MAXH2CDATA (bytes). */
    record IcResp(int pfv, int cpda, boolean headerDigest, boolean dataDigest, int maxH2cData) implements Pdu {
    }

    /** H2CTermReq / C2HTermReq (3.6.2.4, 3.6.2.5): FES, FEI and the offending PDU header. */
    record TermReq(boolean fromHost, int fes, int fei, ByteBuf data) implements Pdu {
        @Override
        public void release() {
            ReferenceCountUtil.release(data);
        }
    }

    /** CapsuleCmd (3.6.2.6): the SQE and in-capsule data ({@code data} null when none). */
    record CapsuleCommand(NvmeCommand command, ByteBuf data) implements Pdu {
        @Override
        public void release() {
            ReferenceCountUtil.release(data);
        }
    }

    /** CapsuleResp (3.6.2.7): the CQE. */
    record CapsuleResponse(NvmeCompletion completion) implements Pdu {
    }

    /** H2CData (3.6.2.8): CCCID, TTAG, DATAO and DATAL (= data's readable bytes), LAST_PDU. */
    record H2CData(int cccid, int ttag, int datao, boolean last, ByteBuf data) implements Pdu {
        @Override
        public void release() {
            ReferenceCountUtil.release(data);
        }
    }

    /** C2HData (3.6.2.9): CCCID, DATAO, DATAL, LAST_PDU and SUCCESS. */
    record C2HData(int cccid, int datao, boolean last, boolean success, ByteBuf data) implements Pdu {
        @Override
        public void release() {
            ReferenceCountUtil.release(data);
        }
    }

    /** R2T (3.6.2.10): CCCID, TTAG, R2TO, R2TL. */
    record R2T(int cccid, int ttag, int r2to, int r2tl) implements Pdu {
    }

    /**
     * Not on the wire: a CapsuleCmd, H2CData or C2HData whose data digest did not match, data dropped. A data digest
     * error is not fatal to the connection (NVMe/TCP 1.0, 7.4.6.2): the receiver fails that one command and goes on.
     * {@code type} is the PDU type; {@code cccid} the command id (of the SQE for a CapsuleCmd); the rest as in the
     * data PDUs ({@code datal} is the length of the dropped data).
     */
    record DataDigestError(int type, int cccid, int ttag, int datao, int datal, boolean last, boolean success) implements Pdu {
    }
}
