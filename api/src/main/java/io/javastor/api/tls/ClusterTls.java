package io.javastor.api.tls;

import java.io.IOException;
import java.io.InputStream;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannelBuilder;
import io.grpc.TlsChannelCredentials;

/**
 * The component's side of the cluster's mTLS: the CA every peer's certificate must chain to, and this component's own
 * certificate and key (PEM; {@code tools/cluster-certs} makes them). Bound from {@code javastor.tls.*} by each service.
 * On unless {@code javastor.tls.enabled=false} is set explicitly.
 */
public record ClusterTls(Boolean enabled, Path caFile, Path certFile, Path keyFile) {
    public static final String PREFIX = "javastor.tls";

    public ClusterTls {
        enabled = enabled == null || enabled;
    }

    /** From {@code javastor.tls.*} as {@code property} answers them (a Spring Environment's getProperty), checked. */
    public static ClusterTls fromProperties(UnaryOperator<String> property, String component) {
        String enabled = property.apply(PREFIX + ".enabled");
        return new ClusterTls(enabled == null || enabled.isBlank() ? null : Boolean.parseBoolean(enabled.trim()),
                path(property.apply(PREFIX + ".ca-file")), path(property.apply(PREFIX + ".cert-file")),
                path(property.apply(PREFIX + ".key-file"))).requireUsable(component);
    }

    private static Path path(String value) {
        return value == null || value.isBlank() ? null : Path.of(value.trim());
    }

    public static ClusterTls plaintext() {
        return new ClusterTls(false, null, null, null);
    }

    public boolean on() {
        return enabled;
    }

    /** Fails with a message naming the property when TLS is on and a file is not set or not readable. */
    public ClusterTls requireUsable(String component) {
        if (!enabled) {
            return this;
        }
        check(component, "ca-file", caFile);
        check(component, "cert-file", certFile);
        check(component, "key-file", keyFile);
        return this;
    }

    private static void check(String component, String property, Path file) {
        if (file == null || file.toString().isBlank()) {
            throw new IllegalStateException(component + ": " + PREFIX + "." + property + " is not set. Every gRPC channel "
                    + "uses mTLS with the cluster CA: set " + PREFIX + ".ca-file, .cert-file and .key-file (tools/cluster-certs "
                    + "makes them; ./javastor up does it for you), or set " + PREFIX + ".enabled=false to run in plaintext");
        }
        if (!Files.isReadable(file)) {
            throw new IllegalStateException(component + ": " + PREFIX + "." + property + "=" + file + " is not a readable file");
        }
    }

    /**
     * A channel to {@code target} that proves who we are and accepts the server only if its certificate names
     * {@code peer} (the authority is the peer's name, whatever address the target has).
     */
    public ManagedChannelBuilder<?> channelTo(String target, ClusterPeer peer) {
        if (!enabled) {
            return ManagedChannelBuilder.forTarget(target).usePlaintext();
        }
        return Grpc.newChannelBuilder(target, credentials()).overrideAuthority(peer.dnsName());
    }

    /**
     * An HTTPS client context that trusts the cluster CA only (the REST gateway's certificate comes from it); callers
     * authenticate with bearer tokens, so no client certificate is needed.
     */
    public static SSLContext trustingCa(Path caFile) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trustManagers(caFile).getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot trust the cluster CA in " + caFile + ": " + e.getMessage(), e);
        }
    }

    /** Trust in the certificates of {@code caFile} (PEM, one or more) and no other. */
    private static TrustManagerFactory trustManagers(Path caFile) {
        try (InputStream in = Files.newInputStream(caFile)) {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trust.setCertificateEntry("ca-" + i++, c);
            }
            if (i == 0) {
                throw new IllegalStateException(caFile + " holds no certificate");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            return tmf;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot trust the cluster CA in " + caFile + ": " + e.getMessage(), e);
        }
    }

    /** Trust in the cluster CA only, for a TLS client or server of ours. */
    public TrustManagerFactory trustManagers() {
        return trustManagers(caFile);
    }

    /**
     * This component's certificate (with the chain its file holds) and key, as the JDK's key managers. The key is read
     * here (PKCS#8 through the JDK's KeyFactory), not handed to gRPC or Netty as PEM: Netty reads a PEM key with Bouncy
     * Castle's reader first whenever that is on the classpath (ours has it for certificate requests), which registers
     * its whole provider, ~700 classes from a signed jar (verified on load, never in a class archive): half a second of
     * every start on a 2-core machine, and seconds under emulation.
     */
    public KeyManagerFactory keyManagers() {
        try (InputStream certs = Files.newInputStream(certFile)) {
            PrivateKey key = PemKeys.privateKey(keyFile);
            Certificate[] chain = CertificateFactory.getInstance("X.509").generateCertificates(certs).toArray(Certificate[]::new);
            if (chain.length == 0) {
                throw new IllegalStateException(certFile + " holds no certificate");
            }
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("self", key, new char[0], chain);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, new char[0]);
            return kmf;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot use the certificate " + certFile + " with the key " + keyFile + ": " + e.getMessage(), e);
        }
    }

    public ChannelCredentials credentials() {
        return TlsChannelCredentials.newBuilder()
                .keyManager(keyManagers().getKeyManagers())
                .trustManager(trustManagers().getTrustManagers())
                .build();
    }
}
