package io.javastor.ioengine.nvmf.auth;

import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.List;

/**
 * The controller's side of DH-HMAC-CHAP on one queue (NVMe base 2.0, 8.13.5): Authentication Send brings the host's
 * messages ({@link #send}), Authentication Receive takes ours ({@link #receive}). Negotiate → Challenge → Reply →
 * Success1 (→ Success2 when the host authenticates us too). Any error ends the transaction with a Failure1 and
 * {@link #failed()}; a new Negotiate restarts it (re-authentication). Not thread-safe: one queue's event loop drives it.
 */
public final class DhchapControllerExchange {
    private enum Step { NEGOTIATE, CHALLENGE, REPLY, SUCCESS1, SUCCESS2, FAILURE1, DONE }

    private final DhchapKeys keys;
    private final String hostNqn;
    private final String subsystemNqn;
    private final List<DhchapHash> hashes;
    private final List<DhGroup> groups;
    private final SecureRandom random;

    private Step step = Step.NEGOTIATE;
    private boolean authenticated;
    private boolean failed;
    private String failure;
    private int tid;
    private DhchapHash hash;
    private DhGroup group;
    private byte[] c1;
    private long s1;
    private BigInteger exponent;
    private byte[] sessionKey;
    private byte[] c2;
    private long s2;
    private int failureExplanation;

    /**
     * @param hashes hash functions we accept, most preferred first
     * @param groups DH groups we accept, most preferred first
     */
    public DhchapControllerExchange(DhchapKeys keys, String hostNqn, String subsystemNqn, List<DhchapHash> hashes,
                                    List<DhGroup> groups, SecureRandom random) {
        this.keys = keys;
        this.hostNqn = hostNqn;
        this.subsystemNqn = subsystemNqn;
        this.hashes = List.copyOf(hashes);
        this.groups = List.copyOf(groups);
        this.random = random;
    }

    /** The host proved it holds the secret (and, when it asked, accepted our proof). */
    public boolean authenticated() {
        return authenticated;
    }

    /** The transaction ended in failure: the queue must not be used. */
    public boolean failed() {
        return failed;
    }

    /** Why it failed (for the log; never a secret). */
    public String failure() {
        return failure;
    }

    /** The data of an Authentication Send. */
    public void send(byte[] data) {
        DhchapMessage m;
        try {
            m = DhchapMessage.decode(data);
        } catch (DhchapException e) {
            fail(e);
            return;
        }
        try {
            if (m instanceof DhchapMessage.Negotiate n) {
                negotiate(n);
            } else if (m.tid() != tid) {
                throw new DhchapException(DhchapException.INCORRECT_PAYLOAD, "transaction " + m.tid() + ", expected " + tid);
            } else if (m instanceof DhchapMessage.Reply r && step == Step.REPLY) {
                reply(r);
            } else if (m instanceof DhchapMessage.Success2 && step == Step.SUCCESS2) {
                authenticated = true;
                step = Step.DONE;
            } else if (m instanceof DhchapMessage.Failure f && f.authId() == DhchapMessage.ID_FAILURE2) {
                authenticated = false;
                failed = true;
                failure = "the host refused our response (explanation " + f.explanation() + ")";
                step = Step.DONE;
            } else {
                throw new DhchapException(DhchapException.INCORRECT_MESSAGE, "unexpected " + m.getClass().getSimpleName() + " at step " + step);
            }
        } catch (DhchapException e) {
            fail(e);
        }
    }

    /** The data to return for an Authentication Receive. */
    public byte[] receive() {
        switch (step) {
            case CHALLENGE -> {
                c1 = new byte[hash.length()];
                random.nextBytes(c1);
                s1 = Integer.toUnsignedLong(random.nextInt(Integer.MAX_VALUE) + 1);
                byte[] dh = new byte[0];
                if (group != DhGroup.NULL) {
                    exponent = group.privateExponent(random);
                    dh = group.publicValue(exponent);
                }
                step = Step.REPLY;
                return new DhchapMessage.Challenge(tid, hash.id(), group.id(), s1, c1, dh).encode();
            }
            case SUCCESS1 -> {
                if (c2 == null) {
                    authenticated = true;
                    step = Step.DONE;
                    return new DhchapMessage.Success1(tid, hash.length(), null).encode();
                }
                byte[] r2 = DhchapResponses.controllerResponse(hash, keys.controller(), DhchapResponses.augmented(hash, sessionKey, c2),
                        s2, tid, hostNqn, subsystemNqn);
                step = Step.SUCCESS2;
                return new DhchapMessage.Success1(tid, hash.length(), r2).encode();
            }
            case FAILURE1 -> {
                step = Step.DONE;
                failed = true;
                return new DhchapMessage.Failure(DhchapMessage.ID_FAILURE1, tid, DhchapMessage.REASON_FAILED, failureExplanation).encode();
            }
            default -> {
                fail(new DhchapException(DhchapException.INCORRECT_MESSAGE, "Authentication Receive at step " + step));
                step = Step.DONE;
                failed = true;
                return new DhchapMessage.Failure(DhchapMessage.ID_FAILURE1, tid, DhchapMessage.REASON_FAILED, failureExplanation).encode();
            }
        }
    }

    private void negotiate(DhchapMessage.Negotiate n) throws DhchapException {
        tid = n.tid();
        c2 = null;
        sessionKey = null;
        if (n.scC() != 0) {
            throw new DhchapException(DhchapException.CONCAT_MISMATCH, "secure channel concatenation (SC_C " + n.scC() + ") is not offered");
        }
        hash = hashes.stream().filter(h -> n.hashIds().contains(h.id())).findFirst()
                .orElseThrow(() -> new DhchapException(DhchapException.HASH_UNUSABLE, "no common hash function in " + n.hashIds()));
        group = groups.stream().filter(g -> n.dhGroupIds().contains(g.id())).findFirst()
                .orElseThrow(() -> new DhchapException(DhchapException.DHGROUP_UNUSABLE, "no common DH group in " + n.dhGroupIds()));
        step = Step.CHALLENGE;
    }

    private void reply(DhchapMessage.Reply r) throws DhchapException {
        if (r.response().length != hash.length()) {
            throw new DhchapException(DhchapException.INCORRECT_PAYLOAD, "response of " + r.response().length + " bytes, HL is " + hash.length());
        }
        if (group != DhGroup.NULL) {
            sessionKey = group.sharedSecret(exponent, r.dhValue());
        } else if (r.dhValue().length != 0) {
            throw new DhchapException(DhchapException.INCORRECT_PAYLOAD, "a DH value with the NULL group");
        }
        byte[] expected = DhchapResponses.hostResponse(hash, keys.host(), DhchapResponses.augmented(hash, sessionKey, c1), s1, tid,
                hostNqn, subsystemNqn);
        if (!MessageDigest.isEqual(expected, r.response())) {
            throw new DhchapException(DhchapException.FAILED, "the host's response does not match its secret");
        }
        if (r.c2() != null && r.seqnum() != 0) {
            if (keys.controller() == null) {
                throw new DhchapException(DhchapException.FAILED, "the host asks the controller to authenticate, and it has no controller secret");
            }
            c2 = r.c2();
            s2 = r.seqnum();
        }
        step = Step.SUCCESS1;
    }

    private void fail(DhchapException e) {
        authenticated = false;
        failure = e.getMessage();
        failureExplanation = e.explanation();
        step = Step.FAILURE1;
    }
}
