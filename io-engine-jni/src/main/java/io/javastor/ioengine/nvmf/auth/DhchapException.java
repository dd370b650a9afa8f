package io.javastor.ioengine.nvmf.auth;

/**
 * An authentication transaction that cannot go on, with the reason code explanation it ends with in a
 * DH-HMAC-CHAP_Failure1/Failure2 message (NVMe base 2.0, 8.13.5.6, figure "reason code explanations").
 */
public final class DhchapException extends Exception {
    public static final int FAILED = 0x01;
    public static final int NOT_USABLE = 0x02;
    public static final int CONCAT_MISMATCH = 0x03;
    public static final int HASH_UNUSABLE = 0x04;
    public static final int DHGROUP_UNUSABLE = 0x05;
    public static final int INCORRECT_PAYLOAD = 0x06;
    public static final int INCORRECT_MESSAGE = 0x07;

    private final int explanation;
    private final boolean fromPeer;

    public DhchapException(int explanation, String message) {
        this(explanation, message, false);
    }

    /** @param fromPeer the other side ended the transaction (its Failure message), so there is nothing to answer */
    public DhchapException(int explanation, String message, boolean fromPeer) {
        super(message);
        this.explanation = explanation;
        this.fromPeer = fromPeer;
    }

    public int explanation() {
        return explanation;
    }

    public boolean fromPeer() {
        return fromPeer;
    }
}
