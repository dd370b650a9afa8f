package io.javastor.ioengine.nvmf.pdu;

import io.netty.buffer.ByteBuf;

/**
 * A 64-byte submission queue entry (NVMe base 2.0, 4.2 "Submission Queue Entry"), with its data pointer
 * as an SGL descriptor (4.3.2): for NVMe/TCP either in-capsule data (type 0x01, data block with offset) or
 * a transport data block (0x5A) that the data moves for in H2CData/C2HData PDUs.
 * For fabrics commands (opcode 0x7F) byte 4 is FCTYPE (NVMe-oF 1.1, 6.1), here the low byte of {@link #nsid}.
 */
public record NvmeCommand(int opcode, int flags, int cid, int nsid, int cdw2, int cdw3, long mptr,
                          long sglAddress, int sglLength, int sglType,
                          int cdw10, int cdw11, int cdw12, int cdw13, int cdw14, int cdw15) {
    public static final int SIZE = 64;
    public static final int SGL_IN_CAPSULE = 0x01;
    public static final int SGL_TRANSPORT = 0x5A;

    /** Force Unit Access: CDW12 bit 30 of Write and Write Zeroes (NVM Command Set 1.0, 3.2.6). */
    public static final int CDW12_FUA = 1 << 30;

    public static NvmeCommand decode(ByteBuf b, int at) {
        return new NvmeCommand(b.getUnsignedByte(at), b.getUnsignedByte(at + 1), b.getUnsignedShortLE(at + 2),
                b.getIntLE(at + 4), b.getIntLE(at + 8), b.getIntLE(at + 12), b.getLongLE(at + 16),
                b.getLongLE(at + 24), b.getIntLE(at + 32), b.getUnsignedByte(at + 39),
                b.getIntLE(at + 40), b.getIntLE(at + 44), b.getIntLE(at + 48), b.getIntLE(at + 52),
                b.getIntLE(at + 56), b.getIntLE(at + 60));
    }

    public void encode(ByteBuf out) {
        out.writeByte(opcode).writeByte(flags).writeShortLE(cid).writeIntLE(nsid).writeIntLE(cdw2).writeIntLE(cdw3)
                .writeLongLE(mptr).writeLongLE(sglAddress).writeIntLE(sglLength).writeMedium(0).writeByte(sglType)
                .writeIntLE(cdw10).writeIntLE(cdw11).writeIntLE(cdw12).writeIntLE(cdw13).writeIntLE(cdw14).writeIntLE(cdw15);
    }

    public NvmeCommand withCid(int newCid) {
        return new NvmeCommand(opcode, flags, newCid, nsid, cdw2, cdw3, mptr, sglAddress, sglLength, sglType,
                cdw10, cdw11, cdw12, cdw13, cdw14, cdw15);
    }

    public NvmeCommand withSgl(int type, int length) {
        return new NvmeCommand(opcode, flags, cid, nsid, cdw2, cdw3, mptr, 0, length, type,
                cdw10, cdw11, cdw12, cdw13, cdw14, cdw15);
    }

    /** A command with the given opcode, nsid and CDW10..15; CID and SGL are filled in by the queue. */
    public static NvmeCommand of(int opcode, int nsid, int cdw10, int cdw11, int cdw12, int cdw13, int cdw14, int cdw15) {
        return new NvmeCommand(opcode, 0, 0, nsid, 0, 0, 0, 0, 0, SGL_TRANSPORT, cdw10, cdw11, cdw12, cdw13, cdw14, cdw15);
    }

    public boolean isFabrics() {
        return opcode == NvmeOpcode.FABRICS;
    }

    public int fctype() {
        return nsid & 0xFF;
    }

    public long slba() {
        return (cdw10 & 0xFFFFFFFFL) | ((long) cdw11 << 32);
    }

    /** Number of logical blocks, from the 0's based NLB of CDW12. */
    public int blockCount() {
        return (cdw12 & 0xFFFF) + 1;
    }
}
