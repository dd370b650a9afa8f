package io.javastor.ioengine.nvmf.pdu;

/**
 * What a connection negotiated in ICReq/ICResp and the sizes it accepts. Shared by the connection's
 * decoder, encoder and handler; touched only on the channel's event loop.
 */
public final class PduFormat {
    /** True on the controller side: it receives host-to-controller PDUs. */
    private final boolean target;
    private boolean initialized;
    private boolean headerDigest;
    private boolean dataDigest;
    /** Alignment the peer wants for data in PDUs we send ((H|C)PDA + 1) * 4 bytes. */
    private int peerDataAlignment = 4;
    /** Largest data part we accept in one PDU of each kind. */
    private int maxInCapsuleData;
    private int maxH2cData;
    private int maxC2hData;

    public PduFormat(boolean target, int maxInCapsuleData, int maxH2cData, int maxC2hData) {
        this.target = target;
        this.maxInCapsuleData = maxInCapsuleData;
        this.maxH2cData = maxH2cData;
        this.maxC2hData = maxC2hData;
    }

    public boolean isTarget() {
        return target;
    }

    public boolean initialized() {
        return initialized;
    }

    public void initialize(boolean hdgst, boolean ddgst, int pda) {
        this.headerDigest = hdgst;
        this.dataDigest = ddgst;
        this.peerDataAlignment = (pda + 1) * 4;
        this.initialized = true;
    }

    public boolean headerDigest() {
        return headerDigest;
    }

    public boolean dataDigest() {
        return dataDigest;
    }

    public int peerDataAlignment() {
        return peerDataAlignment;
    }

    public int maxInCapsuleData() {
        return maxInCapsuleData;
    }

    public void maxInCapsuleData(int v) {
        maxInCapsuleData = v;
    }

    public int maxH2cData() {
        return maxH2cData;
    }

    public void maxH2cData(int v) {
        maxH2cData = v;
    }

    public int maxC2hData() {
        return maxC2hData;
    }

    public int headerDigestLength() {
        return headerDigest ? PduType.DIGEST_LEN : 0;
    }
}
