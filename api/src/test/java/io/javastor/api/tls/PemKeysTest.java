package io.javastor.api.tls;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The key files the components are given, as openssl writes them (cluster-certs: PKCS#8; the chart's Helm functions:
 * RSA PKCS#1; openssl and cert-manager EC keys: SEC1), each read by the JDK to the same key as its PKCS#8 form.
 */
class PemKeysTest {

    @Test
    void ecKeyInSec1ReadsAsItsPkcs8Form(@TempDir Path dir) throws Exception {
        Path pkcs8 = dir.resolve("ec-pkcs8.pem");
        Path sec1 = dir.resolve("ec-sec1.pem");
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", pkcs8.toString());
        openssl("ec", "-in", pkcs8.toString(), "-out", sec1.toString());
        assertThat(Files.readString(sec1)).contains("-----BEGIN EC PRIVATE KEY-----");

        ECPrivateKey expected = (ECPrivateKey) PemKeys.privateKey(pkcs8);
        ECPrivateKey read = (ECPrivateKey) PemKeys.privateKey(sec1);
        assertThat(read.getS()).isEqualTo(expected.getS());
        assertThat(read.getParams().getCurve()).isEqualTo(expected.getParams().getCurve());
    }

    @Test
    void rsaKeyInPkcs1ReadsAsItsPkcs8Form(@TempDir Path dir) throws Exception {
        Path pkcs1 = dir.resolve("rsa-pkcs1.pem");
        Path pkcs8 = dir.resolve("rsa-pkcs8.pem");
        openssl("genrsa", "-traditional", "-out", pkcs1.toString(), "2048");
        openssl("pkcs8", "-topk8", "-nocrypt", "-in", pkcs1.toString(), "-out", pkcs8.toString());
        assertThat(Files.readString(pkcs1)).contains("-----BEGIN RSA PRIVATE KEY-----");

        RSAPrivateCrtKey expected = (RSAPrivateCrtKey) PemKeys.privateKey(pkcs8);
        RSAPrivateCrtKey read = (RSAPrivateCrtKey) PemKeys.privateKey(pkcs1);
        assertThat(read.getModulus()).isEqualTo(expected.getModulus());
        assertThat(read.getPrivateExponent()).isEqualTo(expected.getPrivateExponent());
    }

    @Test
    void encryptedOrForeignKeyIsRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        Path plain = dir.resolve("plain.pem");
        Path encrypted = dir.resolve("encrypted.pem");
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", plain.toString());
        openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:secret", "-in", plain.toString(), "-out", encrypted.toString());
        assertThatThrownBy(() -> PemKeys.privateKey(encrypted)).isInstanceOf(IOException.class)
                .hasMessageContaining(encrypted.toString()).hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");

        Path broken = dir.resolve("broken-sec1.pem");
        Files.writeString(broken, "-----BEGIN EC PRIVATE KEY-----\nMAMCAQE=\n-----END EC PRIVATE KEY-----\n", StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> PemKeys.privateKey(broken)).isInstanceOf(IOException.class)
                .hasMessageContaining(broken.toString()).hasMessageContaining("names no curve");
    }

    private static void openssl(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("openssl %s ended", args[0]).isTrue();
        assertThat(p.exitValue()).as("openssl %s: %s", String.join(" ", args), out).isZero();
    }
}
