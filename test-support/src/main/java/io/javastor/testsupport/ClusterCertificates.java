package io.javastor.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;

import io.javastor.api.tls.ClusterPeer;
import io.javastor.api.tls.ClusterTls;

/**
 * The tests' cluster CA, made once per JVM with the product's own {@code tools/cluster-certs} (so every test run
 * exercises it), and the certificates of the components the tests start or impersonate. Every launcher turns mTLS on
 * with these; a test client proves itself as the component whose calls it makes.
 */
public final class ClusterCertificates {
    private static ClusterCertificates shared;

    private final Path script;
    private final Path dir;

    private ClusterCertificates(Path script, Path dir) {
        this.script = script;
        this.dir = dir;
    }

    public static synchronized ClusterCertificates shared() {
        if (shared == null) {
            shared = newAuthority();
        }
        return shared;
    }

    /** Another CA, unrelated to the shared one: its certificates must be refused by everything the tests start. */
    public static ClusterCertificates newAuthority() {
        try {
            ClusterCertificates ca = new ClusterCertificates(findScript(), Files.createTempDirectory("javastor-certs-"));
            ca.run("ca");
            return ca;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The CA's folder (ca.crt, and NAME.crt / NAME.key for each certificate issued). */
    public Path dir() {
        return dir;
    }

    /** The files of {@code peer}'s certificate, issued on first use. */
    public synchronized ClusterTls of(ClusterPeer peer) {
        String name = peer instanceof ClusterPeer.Node n ? "node-" + n.id()
                : peer instanceof ClusterPeer.AnyNode ? "any-node" // the shared io-engine certificate, *.node.javastor
                : peer.dnsName().substring(0, peer.dnsName().indexOf('.'));
        if (!Files.exists(dir.resolve(name + ".key"))) {
            if (name.equals("rest-gateway")) {
                run("issue", name, "IP:127.0.0.1", "DNS:localhost"); // it serves HTTPS on loopback too
            } else {
                run("issue", name);
            }
        }
        return new ClusterTls(true, dir.resolve("ca.crt"), dir.resolve(name + ".crt"), dir.resolve(name + ".key"));
    }

    public ClusterTls node(String nodeId) {
        return of(new ClusterPeer.Node(nodeId));
    }

    /** {@code javastor.tls.*} for a component started with {@code peer}'s certificate. */
    public Map<String, String> springProperties(ClusterPeer peer) {
        ClusterTls tls = of(peer);
        Map<String, String> props = new LinkedHashMap<>();
        props.put("javastor.tls.ca-file", tls.caFile().toString());
        props.put("javastor.tls.cert-file", tls.certFile().toString());
        props.put("javastor.tls.key-file", tls.keyFile().toString());
        return props;
    }

    /** An HTTPS client context trusting this CA only (the REST gateway's certificate comes from it). */
    public SSLContext httpsClient() {
        return ClusterTls.trustingCa(dir.resolve("ca.crt"));
    }

    /** The flags that make an etcd serve clients with mTLS only, with this CA's etcd certificate. */
    public List<String> etcdServerFlags() {
        ClusterTls tls = of(new ClusterPeer.Etcd());
        return List.of("--cert-file", tls.certFile().toString(), "--key-file", tls.keyFile().toString(),
                "--trusted-ca-file", tls.caFile().toString(), "--client-cert-auth");
    }

    private void run(String... args) {
        List<String> command = new ArrayList<>(List.of("bash", script.toString()));
        command.add(args[0]);
        command.add(dir.toString());
        command.addAll(List.of(args).subList(1, args.length));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** {@code tools/cluster-certs} of this checkout: surefire runs each module in its folder, below the root. */
    private static Path findScript() {
        for (Path d = Path.of(System.getProperty("user.dir")).toAbsolutePath(); d != null; d = d.getParent()) {
            Path script = d.resolve("tools/cluster-certs");
            if (Files.isRegularFile(script)) {
                return script;
            }
        }
        throw new IllegalStateException("tools/cluster-certs not found above " + System.getProperty("user.dir"));
    }
}
