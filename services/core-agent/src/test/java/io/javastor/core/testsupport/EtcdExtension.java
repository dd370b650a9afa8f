package io.javastor.core.testsupport;

import io.etcd.jetcd.Client;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.core.store.EtcdConnection;
import io.javastor.testsupport.ClusterCertificates;
import io.javastor.testsupport.FreePorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real etcd for a test class: Debian's {@code /usr/bin/etcd} (package etcd-server) on free
 * loopback ports in a temp data dir, healthy before the tests run, killed after. When the binary
 * is missing the tests are skipped with a message saying so. Use as
 * {@code @RegisterExtension static final EtcdExtension etcd = new EtcdExtension();}.
 * Override the binary with the system property {@code javastor.test.etcd}.
 */
public final class EtcdExtension implements BeforeAllCallback, AfterAllCallback {

    private Process process;
    private Path dataDir;
    private int clientPort;
    private int peerPort;
    private int metricsPort;

    /** https: etcd serves clients with mTLS only (the cluster CA's etcd certificate; clients need one of the CA's). */
    public String endpoint() {
        return "https://127.0.0.1:" + clientPort;
    }

    /** A client as the core agent connects (its certificate); close it after use. */
    public Client client() {
        return EtcdConnection.open(List.of(endpoint()), ClusterCertificates.shared().of(ClusterPeer.CORE_AGENT));
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Path binary = Path.of(System.getProperty("javastor.test.etcd", "/usr/bin/etcd"));
        Assumptions.assumeTrue(Files.isExecutable(binary),
                "SKIPPED: no etcd at " + binary + " (apt-get install -y etcd-server etcd-client)");
        start(binary);
    }

    /** SIGKILL, and wait until it is gone (the data dir stays: {@link #restart()} brings the same member back). */
    public void kill9() throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-9", Long.toString(process.pid())).inheritIO().start().waitFor();
        process.waitFor();
    }

    /** Starts the same member again (same data dir, same ports) after {@link #kill9()}, and waits until it is healthy. */
    public void restart() throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("etcd is still running (pid " + process.pid() + ")");
        }
        start(Path.of(System.getProperty("javastor.test.etcd", "/usr/bin/etcd")));
    }

    private void start(Path binary) throws IOException {
        if (dataDir == null) {
            dataDir = Files.createTempDirectory("javastor-etcd-");
            clientPort = FreePorts.next();
            peerPort = FreePorts.next();
            metricsPort = FreePorts.next();
        }
        String client = endpoint();
        String peer = "http://127.0.0.1:" + peerPort; // one member: no peer traffic leaves the process
        // Health on a plaintext metrics listener (it serves /health and /metrics only, never the key space).
        String metrics = "http://127.0.0.1:" + metricsPort;
        List<String> command = new ArrayList<>(List.of(binary.toString(), "--name", "test", "--data-dir", dataDir.resolve("data").toString(),
                "--listen-client-urls", client, "--advertise-client-urls", client, "--listen-metrics-urls", metrics,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "test=" + peer, "--log-level", "warn"));
        command.addAll(ClusterCertificates.shared().etcdServerFlags());
        process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolve("etcd.log").toFile()))
                .start();
        HttpClient http = HttpClient.newHttpClient();
        Awaitility.await("etcd healthy on " + client + " (health at " + metrics + ")").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("etcd exited: " + Files.readString(dataDir.resolve("etcd.log")));
                    }
                    try {
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(metrics + "/health"))
                                .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
                        return r.statusCode() == 200 && r.body().contains("true");
                    } catch (IOException e) {
                        return false;
                    }
                });
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        if (dataDir != null) {
            deleteTree(dataDir);
        }
    }

    static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
