package io.javastor.ioengine.nvmf.pdu;

import io.netty.buffer.ByteBuf;

/**
 * A 16-byte completion queue entry (NVMe base 2.0, 4.6): DW0, DW1, SQHD, SQID, CID and the status field
 * (phase tag bit 0, SC bits 8:1, SCT bits 11:9, CRD 13:12, M 14, DNR 15).
 */
public record NvmeCompletion(int dw0, int dw1, int sqhd, int sqid, int cid, int status) {
    public static final int SIZE = 16;

    public static NvmeCompletion decode(ByteBuf b, int at) {
        return new NvmeCompletion(b.getIntLE(at), b.getIntLE(at + 4), b.getUnsignedShortLE(at + 8),
                b.getUnsignedShortLE(at + 10), b.getUnsignedShortLE(at + 12), b.getUnsignedShortLE(at + 14));
    }

    public void encode(ByteBuf out) {
        out.writeIntLE(dw0).writeIntLE(dw1).writeShortLE(sqhd).writeShortLE(sqid).writeShortLE(cid).writeShortLE(status);
    }

    public int statusCodeType() {
        return NvmeStatus.sct(status);
    }

    public int statusCode() {
        return NvmeStatus.sc(status);
    }

    public boolean isSuccess() {
        return (status & 0x0FFE) == 0;
    }
}
