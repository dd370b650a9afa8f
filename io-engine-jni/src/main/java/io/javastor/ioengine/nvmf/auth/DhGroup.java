package io.javastor.ioengine.nvmf.auth;

import org.bouncycastle.crypto.agreement.DHStandardGroups;
import org.bouncycastle.crypto.params.DHParameters;

import java.math.BigInteger;
import java.security.SecureRandom;

/**
 * The Diffie-Hellman groups of DH-HMAC-CHAP (NVMe base 2.0, 8.13.5.2, figure "DH group identifiers"): none, or the
 * RFC 7919 finite-field groups. The exchange augments the challenge with a fresh shared secret, so a recorded
 * transaction cannot be replayed and a passive listener learns nothing to attack the secret offline with.
 */
public enum DhGroup {
    NULL(0, null),
    FFDHE2048(1, DHStandardGroups.rfc7919_ffdhe2048),
    FFDHE3072(2, DHStandardGroups.rfc7919_ffdhe3072),
    FFDHE4096(3, DHStandardGroups.rfc7919_ffdhe4096),
    FFDHE6144(4, DHStandardGroups.rfc7919_ffdhe6144),
    FFDHE8192(5, DHStandardGroups.rfc7919_ffdhe8192);

    /** Private exponents of 512 bits: at least twice the strength of the largest group (RFC 7919, 5.2). */
    private static final int EXPONENT_BITS = 512;

    private final int id;
    private final DHParameters params;

    DhGroup(int id, DHParameters params) {
        this.id = id;
        this.params = params;
    }

    public int id() {
        return id;
    }

    /** Length of a public value and of the shared secret in bytes (the modulus's); 0 for the NULL group. */
    public int valueLength() {
        return params == null ? 0 : (params.getP().bitLength() + 7) / 8;
    }

    public static DhGroup byId(int id) {
        for (DhGroup g : values()) {
            if (g.id == id) {
                return g;
            }
        }
        return null;
    }

    /** A fresh private exponent. */
    public BigInteger privateExponent(SecureRandom random) {
        return new BigInteger(EXPONENT_BITS, random).setBit(EXPONENT_BITS - 1);
    }

    /** g^x mod p, big-endian, padded to {@link #valueLength()}. */
    public byte[] publicValue(BigInteger x) {
        return fixed(params.getG().modPow(x, params.getP()));
    }

    /**
     * The shared secret (peer^x mod p, padded to the modulus's length); refuses a peer value outside 2..p-2, which
     * would force a known secret.
     */
    public byte[] sharedSecret(BigInteger x, byte[] peerValue) throws DhchapException {
        BigInteger p = params.getP();
        BigInteger y = new BigInteger(1, peerValue);
        if (peerValue.length != valueLength() || y.compareTo(BigInteger.ONE) <= 0 || y.compareTo(p.subtract(BigInteger.ONE)) >= 0) {
            throw new DhchapException(DhchapException.DHGROUP_UNUSABLE, "the peer's " + this + " value is out of range");
        }
        return fixed(y.modPow(x, p));
    }

    private byte[] fixed(BigInteger v) {
        byte[] raw = v.toByteArray();
        byte[] out = new byte[valueLength()];
        int n = Math.min(raw.length, out.length);
        System.arraycopy(raw, raw.length - n, out, out.length - n, n);
        return out;
    }
}
