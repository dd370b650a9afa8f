package io.javastor.ioengine.nvmf.auth;

import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.List;

/**
 * The host's side of DH-HMAC-CHAP on one queue (NVMe base 2.0, 8.13.5): {@link #negotiate()} is sent, the controller's
 * challenge answered with {@link #reply}, its Success1 checked with {@link #success1} (which, when we authenticate the
 * controller too, checks its response and gives the Success2 to send). Methods throw {@link DhchapException} when the
 * transaction cannot go on; {@link #failure2} is then what to send before giving up.
 */
public final class DhchapHostExchange {
    /** What we offer: every hash and every group, strongest hash first, as the Linux host does. */
    public static final List<DhchapHash> OFFERED_HASHES = List.of(DhchapHash.SHA256, DhchapHash.SHA384, DhchapHash.SHA512);
    public static final List<DhGroup> OFFERED_GROUPS = List.of(DhGroup.values());

    private final DhchapKeys keys;
    private final String hostNqn;
    private final String subsystemNqn;
    private final int tid;
    private final SecureRandom random;
    private DhchapHash hash;
    private byte[] sessionKey;
    private byte[] c2;
    private long s2;

    public DhchapHostExchange(DhchapKeys keys, String hostNqn, String subsystemNqn, int tid, SecureRandom random) {
        this.keys = keys;
        this.hostNqn = hostNqn;
        this.subsystemNqn = subsystemNqn;
        this.tid = tid;
        this.random = random;
    }

    public byte[] negotiate() {
        return new DhchapMessage.Negotiate(tid, 0, OFFERED_HASHES.stream().map(DhchapHash::id).toList(),
                OFFERED_GROUPS.stream().map(DhGroup::id).toList()).encode();
    }

    /** Our Reply to the controller's Challenge (or the Failure1 it sent instead, as an exception). */
    public byte[] reply(byte[] received) throws DhchapException {
        DhchapMessage m = expect(received);
        if (!(m instanceof DhchapMessage.Challenge c)) {
            throw new DhchapException(DhchapException.INCORRECT_MESSAGE, "expected a challenge, got " + m.getClass().getSimpleName());
        }
        hash = DhchapHash.byId(c.hashId());
        DhGroup group = DhGroup.byId(c.dhGroupId());
        if (hash == null || c.c1().length != hash.length()) {
            throw new DhchapException(DhchapException.HASH_UNUSABLE, "the controller chose hash " + c.hashId() + " with HL " + c.c1().length);
        }
        if (group == null) {
            throw new DhchapException(DhchapException.DHGROUP_UNUSABLE, "the controller chose DH group " + c.dhGroupId());
        }
        byte[] ours = new byte[0];
        if (group != DhGroup.NULL) {
            BigInteger x = group.privateExponent(random);
            sessionKey = group.sharedSecret(x, c.dhValue());
            ours = group.publicValue(x);
        } else if (c.dhValue().length != 0) {
            throw new DhchapException(DhchapException.INCORRECT_PAYLOAD, "a DH value with the NULL group");
        }
        byte[] r1 = DhchapResponses.hostResponse(hash, keys.host(), DhchapResponses.augmented(hash, sessionKey, c.c1()), c.seqnum(),
                tid, hostNqn, subsystemNqn);
        if (keys.controller() != null) {
            c2 = new byte[hash.length()];
            random.nextBytes(c2);
            s2 = Integer.toUnsignedLong(random.nextInt(Integer.MAX_VALUE) + 1);
        }
        return new DhchapMessage.Reply(tid, r1, c2, c2 == null ? 0 : s2, ours).encode();
    }

    /**
     * Checks the controller's Success1: null when we are done, else the Success2 to send (its response proved it holds
     * the controller secret).
     */
    public byte[] success1(byte[] received) throws DhchapException {
        DhchapMessage m = expect(received);
        if (!(m instanceof DhchapMessage.Success1 s)) {
            throw new DhchapException(DhchapException.INCORRECT_MESSAGE, "expected Success1, got " + m.getClass().getSimpleName());
        }
        if (c2 == null) {
            return null;
        }
        if (s.response() == null) {
            throw new DhchapException(DhchapException.FAILED, "the controller did not answer our challenge");
        }
        byte[] expected = DhchapResponses.controllerResponse(hash, keys.controller(), DhchapResponses.augmented(hash, sessionKey, c2), s2,
                tid, hostNqn, subsystemNqn);
        if (!MessageDigest.isEqual(expected, s.response())) {
            throw new DhchapException(DhchapException.FAILED, "the controller's response does not match the controller secret");
        }
        return new DhchapMessage.Success2(tid).encode();
    }

    public byte[] failure2(DhchapException why) {
        return new DhchapMessage.Failure(DhchapMessage.ID_FAILURE2, tid, DhchapMessage.REASON_FAILED, why.explanation()).encode();
    }

    private DhchapMessage expect(byte[] received) throws DhchapException {
        DhchapMessage m = DhchapMessage.decode(received);
        if (m instanceof DhchapMessage.Failure f) {
            throw new DhchapException(f.explanation(), "the controller refused: " + explain(f.explanation()), true);
        }
        if (m.tid() != tid) {
            throw new DhchapException(DhchapException.INCORRECT_PAYLOAD, "transaction " + m.tid() + ", expected " + tid);
        }
        return m;
    }

    /** The reason code explanations by their meaning (8.13.5.6). */
    public static String explain(int explanation) {
        return switch (explanation) {
            case DhchapException.FAILED -> "authentication failed (wrong or missing secret)";
            case DhchapException.NOT_USABLE -> "authentication protocol not usable";
            case DhchapException.CONCAT_MISMATCH -> "secure channel concatenation mismatch";
            case DhchapException.HASH_UNUSABLE -> "no usable hash function";
            case DhchapException.DHGROUP_UNUSABLE -> "no usable DH group";
            case DhchapException.INCORRECT_PAYLOAD -> "incorrect payload";
            case DhchapException.INCORRECT_MESSAGE -> "incorrect protocol message";
            default -> "explanation " + explanation;
        };
    }
}
