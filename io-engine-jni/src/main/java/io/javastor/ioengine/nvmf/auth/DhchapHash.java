package io.javastor.ioengine.nvmf.auth;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/** The hash functions of DH-HMAC-CHAP by their identifiers (NVMe base 2.0, 8.13.5.2, figure "hash functions"). */
public enum DhchapHash {
    SHA256(1, "SHA-256", "HmacSHA256", 32),
    SHA384(2, "SHA-384", "HmacSHA384", 48),
    SHA512(3, "SHA-512", "HmacSHA512", 64);

    private final int id;
    private final String digestName;
    private final String hmacName;
    private final int length;

    DhchapHash(int id, String digestName, String hmacName, int length) {
        this.id = id;
        this.digestName = digestName;
        this.hmacName = hmacName;
        this.length = length;
    }

    public int id() {
        return id;
    }

    /** Hash length in bytes: the HL of the challenge, the reply and the success messages. */
    public int length() {
        return length;
    }

    /** The hash for {@code id}, or null when the identifier is not one of ours. */
    public static DhchapHash byId(int id) {
        for (DhchapHash h : values()) {
            if (h.id == id) {
                return h;
            }
        }
        return null;
    }

    /** HMAC with {@code key} over the parts in order. */
    public byte[] hmac(byte[] key, byte[]... parts) {
        try {
            Mac mac = Mac.getInstance(hmacName);
            mac.init(new SecretKeySpec(key, hmacName));
            for (byte[] p : parts) {
                mac.update(p);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(hmacName + " is not available in this JVM", e);
        }
    }

    public byte[] digest(byte[] data) {
        try {
            return MessageDigest.getInstance(digestName).digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(digestName + " is not available in this JVM", e);
        }
    }
}
