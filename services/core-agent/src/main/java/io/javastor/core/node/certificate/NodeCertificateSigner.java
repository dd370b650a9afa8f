package io.javastor.core.node.certificate;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

import io.javastor.api.tls.ClusterPeer;
import io.javastor.core.operation.CoreException;

/**
 * Signs an io-engine's certification request with the cluster CA: the certificate names {@code <node>.node.javastor}
 * (what the agent checks on Register and heartbeats) and nothing else the request asks for; only the request's key is
 * taken from it, after its signature proves the requester holds that key. The CA's key is the chart's (RSA, PKCS#1)
 * or {@code tools/cluster-certs}' (EC, PKCS#8).
 */
public final class NodeCertificateSigner {
    /** Issued a little in the past, so a node whose clock is slightly behind accepts it at once. */
    private static final Duration CLOCK_SKEW = Duration.ofMinutes(5);

    private final X509Certificate ca;
    private final PrivateKey caKey;
    private final Duration validity;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    public NodeCertificateSigner(Path caFile, Path caKeyFile, Duration validity, Clock clock) {
        this.ca = readCertificate(caFile);
        this.caKey = readKey(caKeyFile);
        this.validity = validity;
        this.clock = clock;
    }

    /** A certificate (PEM) for {@code nodeId} with the key of {@code csrDer}; INVALID_ARGUMENT names what is wrong. */
    public Issued sign(String nodeId, byte[] csrDer) {
        JcaPKCS10CertificationRequest csr;
        PublicKey key;
        try {
            csr = new JcaPKCS10CertificationRequest(csrDer);
            key = csr.getPublicKey();
        } catch (IOException | RuntimeException | java.security.GeneralSecurityException e) {
            throw new CoreException.InvalidArgument("csr", "is not a PKCS#10 certification request (DER): " + e.getMessage());
        }
        try {
            if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
                throw new CoreException.InvalidArgument("csr", "its signature does not verify with its own key");
            }
        } catch (OperatorCreationException | PKCSException e) {
            throw new CoreException.InvalidArgument("csr", "its signature cannot be checked: " + e.getMessage());
        }
        requireStrong(key);
        String dns = new ClusterPeer.Node(nodeId).dnsName();
        Instant now = clock.instant();
        Instant notAfter = now.plus(validity);
        if (notAfter.isAfter(ca.getNotAfter().toInstant())) {
            notAfter = ca.getNotAfter().toInstant(); // never outlive the CA
        }
        BigInteger serial = new BigInteger(127, random).add(BigInteger.ONE);
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, serial, Date.from(now.minus(CLOCK_SKEW)),
                    Date.from(notAfter), new X500Name("O=javastor,CN=" + dns), key)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(key instanceof RSAPublicKey
                            ? KeyUsage.digitalSignature | KeyUsage.keyEncipherment : KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false,
                            new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(GeneralName.dNSName, dns)))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key))
                    .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
            String algorithm = caKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder(algorithm).build(caKey)));
            StringWriter pem = new StringWriter();
            try (JcaPEMWriter w = new JcaPEMWriter(pem)) {
                w.writeObject(cert);
            }
            return new Issued(pem.toString(), serial.toString(16), notAfter);
        } catch (CertIOException | OperatorCreationException | CertificateException e) {
            throw new IllegalStateException("signing a certificate for node " + nodeId + " failed: " + e.getMessage(), e);
        } catch (IOException | java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("signing a certificate for node " + nodeId + " failed: " + e.getMessage(), e);
        }
    }

    /** The certificate issued: PEM, its serial (hex, for the log) and when it expires. */
    public record Issued(String pem, String serial, Instant notAfter) {
    }

    private static void requireStrong(PublicKey key) {
        if (key instanceof ECPublicKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            if (bits < 256) {
                throw new CoreException.InvalidArgument("csr", "an EC key of " + bits + " bits is too weak (P-256 or larger)");
            }
        } else if (key instanceof RSAPublicKey rsa) {
            if (rsa.getModulus().bitLength() < 2048) {
                throw new CoreException.InvalidArgument("csr", "an RSA key of " + rsa.getModulus().bitLength()
                        + " bits is too weak (2048 or more)");
            }
        } else {
            throw new CoreException.InvalidArgument("csr", "a " + key.getAlgorithm() + " key is not accepted (EC P-256 or RSA)");
        }
    }

    private static X509Certificate readCertificate(Path file) {
        try (var in = Files.newInputStream(file)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        } catch (IOException | CertificateException e) {
            throw new IllegalStateException("the cluster CA certificate " + file + " cannot be read: " + e.getMessage(), e);
        }
    }

    private static PrivateKey readKey(Path file) {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser pem = new PEMParser(r)) {
            Object o = pem.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair pair) {
                return converter.getPrivateKey(pair.getPrivateKeyInfo());
            } else if (o instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            throw new IllegalStateException(NodeCertificateProperties.PREFIX + ".ca-key-file " + file
                    + " holds no private key (PEM: PKCS#8 or PKCS#1)");
        } catch (IOException e) {
            throw new IllegalStateException(NodeCertificateProperties.PREFIX + ".ca-key-file " + file + " cannot be read: "
                    + e.getMessage(), e);
        }
    }
}
