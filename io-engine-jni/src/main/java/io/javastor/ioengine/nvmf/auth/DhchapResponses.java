package io.javastor.ioengine.nvmf.auth;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The values both sides compute (NVMe base 2.0, 8.13.5.3 and 8.13.5.4): the augmented challenge
 * Ca = HMAC(H(g^xy mod p), C), and the responses, an HMAC with the transformed secret over the challenge, the
 * sequence number, the transaction id, SC_C, a role label and the two NQNs — host first for the host's response
 * ("HostHost"), subsystem first for the controller's ("Controller"), so neither can be reflected as the other.
 */
final class DhchapResponses {
    private static final byte[] HOST_LABEL = "HostHost".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONTROLLER_LABEL = "Controller".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ZERO = {0};

    private DhchapResponses() {
    }

    /** The challenge as the response uses it: C itself with the NULL group, else HMAC(H(session key), C). */
    static byte[] augmented(DhchapHash hash, byte[] sessionKey, byte[] challenge) {
        return sessionKey == null ? challenge : hash.hmac(hash.digest(sessionKey), challenge);
    }

    /** R1, the host's response to the controller's challenge. */
    static byte[] hostResponse(DhchapHash hash, DhchapSecret hostSecret, byte[] challenge, long seqnum, int tid, String hostNqn,
                               String subsystemNqn) {
        byte[] key = hostSecret.transformedFor(hostNqn);
        return hash.hmac(key, challenge, le32(seqnum), le16(tid), ZERO, HOST_LABEL, utf8(hostNqn), ZERO, utf8(subsystemNqn));
    }

    /** R2, the controller's response to the host's challenge. */
    static byte[] controllerResponse(DhchapHash hash, DhchapSecret controllerSecret, byte[] challenge, long seqnum, int tid,
                                     String hostNqn, String subsystemNqn) {
        byte[] key = controllerSecret.transformedFor(subsystemNqn);
        return hash.hmac(key, challenge, le32(seqnum), le16(tid), ZERO, CONTROLLER_LABEL, utf8(subsystemNqn), ZERO, utf8(hostNqn));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] le32(long v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array();
    }

    private static byte[] le16(int v) {
        return ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) v).array();
    }
}
