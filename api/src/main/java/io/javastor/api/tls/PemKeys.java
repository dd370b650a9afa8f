package io.javastor.api.tls;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Private keys as gRPC's and Netty's TLS read them: PKCS#8 PEM. {@code tools/cluster-certs} writes PKCS#8 already;
 * Helm's certificate functions (the chart) write RSA keys in PKCS#1 ("BEGIN RSA PRIVATE KEY"), which this wraps into
 * PKCS#8 (RFC 5208 PrivateKeyInfo with the rsaEncryption algorithm) so both work.
 */
final class PemKeys {
    private PemKeys() {}

    /** AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }, DER. */
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d,
            0x01, 0x01, 0x01, 0x05, 0x00};

    private static final String PKCS8_BEGIN = "-----BEGIN PRIVATE KEY-----";
    private static final String PKCS8_END = "-----END PRIVATE KEY-----";

    static byte[] pkcs8Pem(Path keyFile) throws IOException {
        String pem = Files.readString(keyFile, StandardCharsets.US_ASCII);
        if (!pem.contains("-----BEGIN RSA PRIVATE KEY-----")) {
            return pem.getBytes(StandardCharsets.US_ASCII);
        }
        String body = pem.substring(pem.indexOf("-----BEGIN RSA PRIVATE KEY-----") + "-----BEGIN RSA PRIVATE KEY-----".length(),
                pem.indexOf("-----END RSA PRIVATE KEY-----")).replaceAll("\\s", "");
        byte[] pkcs1 = Base64.getDecoder().decode(body);
        ByteArrayOutputStream info = new ByteArrayOutputStream();
        info.write(new byte[] {0x02, 0x01, 0x00}); // version 0
        info.write(RSA_ALGORITHM);
        info.write(0x04); // privateKey OCTET STRING
        writeLength(info, pkcs1.length);
        info.write(pkcs1);
        ByteArrayOutputStream der = new ByteArrayOutputStream();
        der.write(0x30); // PrivateKeyInfo SEQUENCE
        writeLength(der, info.size());
        info.writeTo(der);
        return ("-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der.toByteArray()) + "\n-----END PRIVATE KEY-----\n").getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * The key of {@code keyFile} (PKCS#8, or RSA PKCS#1) through the JDK: its algorithm is whichever of RSA, EC and
     * EdDSA accepts the PrivateKeyInfo (its AlgorithmIdentifier names one of them).
     */
    static PrivateKey privateKey(Path keyFile) throws IOException {
        String pem = new String(pkcs8Pem(keyFile), StandardCharsets.US_ASCII);
        int begin = pem.indexOf(PKCS8_BEGIN);
        int end = pem.indexOf(PKCS8_END);
        if (begin < 0 || end < begin) {
            throw new IOException(keyFile + " holds no \"" + PKCS8_BEGIN + "\" or \"-----BEGIN RSA PRIVATE KEY-----\" block (an encrypted "
                    + "or SEC1 EC key is not read: convert it with openssl pkcs8 -topk8 -nocrypt)");
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin + PKCS8_BEGIN.length(), end));
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        List<String> refused = new ArrayList<>();
        for (String algorithm : List.of("RSA", "EC", "EdDSA")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                refused.add(algorithm + ": " + e.getMessage());
            }
        }
        throw new IOException(keyFile + " holds a PKCS#8 key no JDK key factory reads (" + String.join("; ", refused) + ")");
    }

    /** DER definite length (X.690, 8.1.3). */
    private static void writeLength(ByteArrayOutputStream out, int length) {
        if (length < 0x80) {
            out.write(length);
        } else if (length < 0x100) {
            out.write(0x81);
            out.write(length);
        } else if (length < 0x10000) {
            out.write(0x82);
            out.write(length >> 8);
            out.write(length);
        } else {
            out.write(0x83);
            out.write(length >> 16);
            out.write(length >> 8);
            out.write(length);
        }
    }
}
