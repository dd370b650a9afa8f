package io.javastor.ioengine.nvmf.pdu;

/**
 * Controller properties a fabrics host reads and writes with Property Get/Set (NVMe-oF 1.1, 3.4; base 2.0, 3.1.4):
 * their offsets and the fields of CC and CSTS both sides look at.
 */
public final class NvmeProperty {
    public static final int CAP = 0x00;
    public static final int VS = 0x08;
    public static final int CC = 0x14;
    public static final int CSTS = 0x1C;
    public static final int NSSR = 0x20;

    /** CC.EN, CC.SHN (bits 15:14, 01b normal shutdown), CC.IOSQES 19:16 and CC.IOCQES 23:20 (base 2.0, 3.1.4.5). */
    public static final int CC_EN = 1;
    public static final int CC_SHN_SHIFT = 14;
    public static final int CC_SHN_NORMAL = 1 << CC_SHN_SHIFT;
    /** CC for an NVM controller with 64-byte submission and 16-byte completion entries. */
    public static final int CC_IOSQES_64_IOCQES_16 = (6 << 16) | (4 << 20);

    /** CSTS.RDY, CSTS.CFS and CSTS.SHST (bits 3:2) (base 2.0, 3.1.4.6). */
    public static final int CSTS_RDY = 1;
    public static final int CSTS_CFS = 2;
    public static final int CSTS_SHST_SHIFT = 2;
    public static final int CSTS_SHST_PROCESSING = 1 << CSTS_SHST_SHIFT;
    public static final int CSTS_SHST_COMPLETE = 2 << CSTS_SHST_SHIFT;
    public static final int CSTS_SHST_MASK = 3 << CSTS_SHST_SHIFT;

    private NvmeProperty() {
    }
}
