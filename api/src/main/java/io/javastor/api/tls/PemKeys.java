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
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Private keys from PEM, read by the JDK: PKCS#8 ("BEGIN PRIVATE KEY", as {@code tools/cluster-certs} writes them),
 * RSA PKCS#1 ("BEGIN RSA PRIVATE KEY", as Helm's certificate functions in the chart write them) and EC SEC1 ("BEGIN EC
 * PRIVATE KEY", as openssl and cert-manager write EC keys). The last two are wrapped into PKCS#8 (RFC 5208
 * PrivateKeyInfo), which is what the JDK's key factories read.
 */
final class PemKeys {
    private PemKeys() {}

    private static final String PKCS8 = "PRIVATE KEY";
    private static final String PKCS1_RSA = "RSA PRIVATE KEY";
    private static final String SEC1_EC = "EC PRIVATE KEY";

    /** AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }, DER. */
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d,
            0x01, 0x01, 0x01, 0x05, 0x00};
    /** OBJECT IDENTIFIER id-ecPublicKey (1.2.840.10045.2.1), DER (RFC 5480, 2.1.1). */
    private static final byte[] EC_PUBLIC_KEY_OID = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

    /**
     * The key of {@code keyFile} through the JDK: its algorithm is whichever of RSA, EC and EdDSA accepts the
     * PrivateKeyInfo (its AlgorithmIdentifier names one of them).
     */
    static PrivateKey privateKey(Path keyFile) throws IOException {
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(privateKeyInfo(keyFile));
        List<String> refused = new ArrayList<>();
        for (String algorithm : List.of("RSA", "EC", "EdDSA")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                refused.add(algorithm + ": " + e.getMessage());
            }
        }
        throw new IOException(keyFile + " holds a private key no JDK key factory reads (" + String.join("; ", refused) + ")");
    }

    /** The key's PKCS#8 PrivateKeyInfo (DER), whichever of the three forms the file holds. */
    private static byte[] privateKeyInfo(Path keyFile) throws IOException {
        String pem = Files.readString(keyFile, StandardCharsets.US_ASCII);
        byte[] der;
        if ((der = block(pem, PKCS8)) != null) {
            return der;
        } else if ((der = block(pem, PKCS1_RSA)) != null) {
            return privateKeyInfo(RSA_ALGORITHM, der);
        } else if ((der = block(pem, SEC1_EC)) != null) {
            return privateKeyInfo(ecAlgorithm(der, keyFile), der);
        }
        throw new IOException(keyFile + " holds no unencrypted private key (\"BEGIN PRIVATE KEY\", \"BEGIN RSA PRIVATE KEY\" or "
                + "\"BEGIN EC PRIVATE KEY\"; an encrypted key can be converted with openssl pkcs8 -topk8 -nocrypt)");
    }

    /** The DER of the PEM block labelled {@code label} (RFC 7468), or null when there is none. */
    private static byte[] block(String pem, String label) {
        String begin = "-----BEGIN " + label + "-----";
        int from = pem.indexOf(begin);
        int to = pem.indexOf("-----END " + label + "-----");
        return from < 0 || to < from ? null : Base64.getMimeDecoder().decode(pem.substring(from + begin.length(), to));
    }

    /** PrivateKeyInfo ::= SEQUENCE { version 0, AlgorithmIdentifier, privateKey OCTET STRING } (RFC 5208, 5). */
    private static byte[] privateKeyInfo(byte[] algorithm, byte[] privateKey) {
        ByteArrayOutputStream info = new ByteArrayOutputStream();
        info.writeBytes(new byte[] {0x02, 0x01, 0x00});
        info.writeBytes(algorithm);
        info.write(0x04);
        writeLength(info, privateKey.length);
        info.writeBytes(privateKey);
        ByteArrayOutputStream der = new ByteArrayOutputStream();
        der.write(0x30);
        writeLength(der, info.size());
        der.writeBytes(info.toByteArray());
        return der.toByteArray();
    }

    /**
     * AlgorithmIdentifier { id-ecPublicKey, namedCurve } for a SEC1 key, the curve taken from the key's own parameters:
     * ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING, [0] ECParameters, [1] publicKey } (RFC 5915, 3).
     */
    private static byte[] ecAlgorithm(byte[] sec1, Path keyFile) throws IOException {
        try {
            int[] outer = header(sec1, 0);
            if (sec1[0] != 0x30) {
                throw new IOException("not a SEQUENCE");
            }
            for (int at = outer[0]; at < outer[0] + outer[1]; ) {
                int[] field = header(sec1, at);
                if ((sec1[at] & 0xff) == 0xa0) { // [0] parameters: the curve's OBJECT IDENTIFIER
                    byte[] curve = Arrays.copyOfRange(sec1, field[0], field[0] + field[1]);
                    if (curve.length == 0 || curve[0] != 0x06) {
                        throw new IOException("its curve is not named by an OBJECT IDENTIFIER");
                    }
                    ByteArrayOutputStream id = new ByteArrayOutputStream();
                    id.write(0x30);
                    writeLength(id, EC_PUBLIC_KEY_OID.length + curve.length);
                    id.writeBytes(EC_PUBLIC_KEY_OID);
                    id.writeBytes(curve);
                    return id.toByteArray();
                }
                at = field[0] + field[1];
            }
            throw new IOException("it names no curve ([0] parameters missing)");
        } catch (IOException | ArrayIndexOutOfBoundsException e) {
            throw new IOException(keyFile + ": not a readable SEC1 EC key: " + e.getMessage(), e);
        }
    }

    /** {content offset, content length} of the DER element at {@code at} (X.690, 8.1.2-8.1.3; one-byte tags). */
    private static int[] header(byte[] der, int at) throws IOException {
        int first = der[at + 1] & 0xff;
        if (first < 0x80) {
            return new int[] {at + 2, first};
        }
        int bytes = first & 0x7f;
        if (bytes == 0 || bytes > 3) {
            throw new IOException("unsupported DER length at byte " + at);
        }
        int length = 0;
        for (int i = 0; i < bytes; i++) {
            length = (length << 8) | (der[at + 2 + i] & 0xff);
        }
        return new int[] {at + 2 + bytes, length};
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
