package io.javastor.core.node.certificate;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.security.auth.x500.X500Principal;

import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.javastor.api.tls.ClusterPeer;

/**
 * The chart's CA is Helm's genCA: an RSA key in PKCS#1 ("BEGIN RSA PRIVATE KEY"), unlike tools/cluster-certs' EC
 * PKCS#8 the other tests use. Made here with openssl in that form; a node certificate signed with it verifies, and never
 * outlives the CA.
 */
class NodeCertificateSignerTest {

    @TempDir
    Path dir;

    private void openssl(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
    }

    @Test
    void anRsaPkcs1CaLikeHelmsSignsAnEcNodeKeyAndTheCertificateEndsWithTheCa() throws Exception {
        openssl("genrsa", "-traditional", "-out", "ca.key", "2048");
        openssl("req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", "30", "-subj", "/CN=javastor cluster CA", "-out", "ca.crt");
        assertThat(Files.readString(dir.resolve("ca.key"))).startsWith("-----BEGIN RSA PRIVATE KEY-----");

        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair node = g.generateKeyPair();
        byte[] csr = new JcaPKCS10CertificationRequestBuilder(new X500Principal("CN=x"), node.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(node.getPrivate())).getEncoded();

        NodeCertificateSigner signer = new NodeCertificateSigner(dir.resolve("ca.crt"), dir.resolve("ca.key"), Duration.ofDays(365),
                Clock.systemUTC());
        NodeCertificateSigner.Issued issued = signer.sign("worker-7", csr);

        CertificateFactory x509 = CertificateFactory.getInstance("X.509");
        X509Certificate ca = (X509Certificate) x509.generateCertificate(Files.newInputStream(dir.resolve("ca.crt")));
        X509Certificate cert = (X509Certificate) x509.generateCertificate(new ByteArrayInputStream(issued.pem().getBytes(StandardCharsets.US_ASCII)));
        cert.verify(ca.getPublicKey());
        assertThat(cert.getSigAlgName()).isEqualTo("SHA256withRSA");
        assertThat(ClusterPeer.of(cert)).contains(new ClusterPeer.Node("worker-7"));
        assertThat(cert.getExtendedKeyUsage()).containsExactlyInAnyOrder("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
        // 365 days asked, the CA lasts 30: the certificate ends with the CA.
        assertThat(cert.getNotAfter()).isEqualTo(ca.getNotAfter());
        assertThat(issued.notAfter()).isEqualTo(ca.getNotAfter().toInstant());
    }
}
