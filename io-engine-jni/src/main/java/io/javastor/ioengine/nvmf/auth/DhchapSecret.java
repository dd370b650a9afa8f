package io.javastor.ioengine.nvmf.auth;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.zip.CRC32;

/**
 * A DH-HMAC-CHAP secret in the representation hosts and targets exchange ({@code DHHC-1:hh:base64:}, NVMe base 2.0,
 * 8.13.5.8, as {@code nvme gen-dhchap-key} writes it): a 32, 48 or 64 byte key followed by its CRC-32 (little-endian),
 * and {@code hh} naming the hash that binds the key to an NQN before use (00 none, 01..03 SHA-256/384/512). Never
 * printed: {@link #toString()} hides it.
 */
public final class DhchapSecret {
    private static final String PREFIX = "DHHC-1:";
    private static final byte[] TRANSFORM_LABEL = "NVMe-over-Fabrics".getBytes(StandardCharsets.US_ASCII);

    private final byte[] key;
    /** The hash of the key transformation, null for none ("00"). */
    private final DhchapHash transform;

    private DhchapSecret(byte[] key, DhchapHash transform) {
        this.key = key;
        this.transform = transform;
    }

    /** Parses the representation; the error names what is wrong and never quotes the secret. */
    public static DhchapSecret parse(String text) {
        if (text == null || !text.startsWith(PREFIX) || !text.endsWith(":") || text.length() < PREFIX.length() + 4) {
            throw new IllegalArgumentException("a DH-HMAC-CHAP secret has the form DHHC-1:hh:<base64>:");
        }
        String body = text.substring(PREFIX.length(), text.length() - 1);
        int colon = body.indexOf(':');
        if (colon != 2) {
            throw new IllegalArgumentException("a DH-HMAC-CHAP secret has the form DHHC-1:hh:<base64>: (hh: two hex digits)");
        }
        int hh;
        try {
            hh = Integer.parseInt(body.substring(0, 2), 16);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("DH-HMAC-CHAP secret: the key transformation '" + body.substring(0, 2) + "' is not hex");
        }
        DhchapHash transform = hh == 0 ? null : DhchapHash.byId(hh);
        if (hh != 0 && transform == null) {
            throw new IllegalArgumentException("DH-HMAC-CHAP secret: unknown key transformation " + hh + " (00..03)");
        }
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(body.substring(3));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("DH-HMAC-CHAP secret: the key is not base64");
        }
        int len = raw.length - 4;
        if (len != 32 && len != 48 && len != 64) {
            throw new IllegalArgumentException("DH-HMAC-CHAP secret: the key is " + Math.max(0, len) + " bytes; it must be 32, 48 or 64");
        }
        byte[] key = java.util.Arrays.copyOf(raw, len);
        if (ByteBuffer.wrap(raw, len, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() != (int) crc(key)) {
            throw new IllegalArgumentException("DH-HMAC-CHAP secret: its CRC-32 does not match the key (mistyped or cut?)");
        }
        return new DhchapSecret(key, transform);
    }

    /** A new random secret of 32 bytes, bound to the NQN it is used with by SHA-256. */
    public static DhchapSecret generate(SecureRandom random) {
        byte[] key = new byte[32];
        random.nextBytes(key);
        return new DhchapSecret(key, DhchapHash.SHA256);
    }

    /** The representation, for the configuration of a host or a target (keep it secret). */
    public String text() {
        ByteBuffer raw = ByteBuffer.allocate(key.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        raw.put(key).putInt((int) crc(key));
        return PREFIX + String.format("%02x", transform == null ? 0 : transform.id()) + ":"
                + Base64.getEncoder().encodeToString(raw.array()) + ":";
    }

    /** The key as used for {@code nqn}: HMAC(key, NQN || "NVMe-over-Fabrics") with the transformation's hash, or the key. */
    byte[] transformedFor(String nqn) {
        if (transform == null) {
            return key.clone();
        }
        return transform.hmac(key, nqn.getBytes(StandardCharsets.UTF_8), TRANSFORM_LABEL);
    }

    private static long crc(byte[] key) {
        CRC32 c = new CRC32();
        c.update(key);
        return c.getValue();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DhchapSecret s && java.security.MessageDigest.isEqual(key, s.key) && transform == s.transform;
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(key);
    }

    @Override
    public String toString() {
        return "DhchapSecret[hidden]";
    }
}
