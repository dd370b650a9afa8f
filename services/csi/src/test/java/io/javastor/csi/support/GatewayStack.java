package io.javastor.csi.support;

import io.javastor.testsupport.ClusterCertificates;
import io.javastor.testsupport.CoreAgentProcess;
import io.javastor.testsupport.IoEngineProcess;
import io.javastor.testsupport.JavaProcess;
import io.javastor.testsupport.RestGatewayProcess;

import io.javastor.testsupport.FreePorts;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The real control plane, each part in its own process on free loopback ports: etcd (Debian's etcd-server), the core
 * agent, three io-engines with a 256 MiB file pool each (created through the gateway) and the REST gateway.
 */
public final class GatewayStack implements AutoCloseable {
    public static final List<String> NODES = List.of("csi-node-1", "csi-node-2", "csi-node-3");
    private final Path dir;
    private final List<Process> processes = new ArrayList<>(); // etcd
    private final List<AutoCloseable> javaProcesses = new ArrayList<>();
    /** Trusts the tests' cluster CA: the gateway serves HTTPS with a certificate from it. */
    private final HttpClient http = HttpClient.newBuilder().sslContext(ClusterCertificates.shared().httpsClient()).build();
    private String gatewayUrl;

    private RestGatewayProcess gateway;
    private String adminToken;
    private String agentAddress;
    private String etcdEndpoint;
    private final java.util.Map<String, IoEngineProcess> engines = new java.util.LinkedHashMap<>();

    private GatewayStack(Path dir) {
        this.dir = dir;
    }

    public static GatewayStack start(Path dir) throws Exception {
        return start(dir, Map.of());
    }

    /** As {@link #start(Path)}, with extra io-engine arguments per node (an NVMe-oF port given there replaces the free one). */
    public static GatewayStack start(Path dir, Map<String, List<String>> engineArgs) throws Exception {
        for (String jar : List.of(JavaProcess.CORE_AGENT_JAR, JavaProcess.GATEWAY_JAR, JavaProcess.IO_ENGINE_JAR)) {
            JavaProcess.execJar(jar); // skip early, saying why, when one was not built
        }
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/etcd")), "skipped: etcd is not installed (apt-get install etcd-server)");
        GatewayStack s = new GatewayStack(Files.createDirectories(dir));
        try {
            s.startAll(engineArgs);
        } catch (Exception | AssertionError e) {
            s.close();
            throw e;
        }
        return s;
    }

    private void startAll(Map<String, List<String>> engineArgs) throws Exception {
        int etcdClient = FreePorts.next();
        int etcdPeer = FreePorts.next();
        String etcd = "https://127.0.0.1:" + etcdClient; // mTLS only, as in production; health on a plaintext metrics port
        String etcdMetrics = "http://127.0.0.1:" + FreePorts.next();
        Files.createDirectories(dir.resolve("etcd"));
        List<String> etcdCommand = new ArrayList<>(List.of("/usr/bin/etcd", "--name", "csi", "--data-dir", dir.resolve("etcd").toString(),
                "--listen-client-urls", etcd, "--advertise-client-urls", etcd, "--listen-metrics-urls", etcdMetrics,
                "--listen-peer-urls", "http://127.0.0.1:" + etcdPeer, "--initial-advertise-peer-urls", "http://127.0.0.1:" + etcdPeer,
                "--initial-cluster", "csi=http://127.0.0.1:" + etcdPeer));
        etcdCommand.addAll(ClusterCertificates.shared().etcdServerFlags());
        start("etcd", etcdCommand, () -> ok(etcdMetrics + "/health"));
        etcdEndpoint = etcd;

        CoreAgentProcess agent = new CoreAgentProcess(etcd, "csi", dir);
        javaProcesses.add(agent);
        agentAddress = agent.address();
        agent.start();
        gateway = new RestGatewayProcess(agent.address(), dir);
        javaProcesses.add(gateway);
        gatewayUrl = gateway.start().url();
        adminToken = gateway.token("admin");
        for (String n : NODES) {
            IoEngineProcess engine = IoEngineProcess.fromJar(n, agent.address(), dir, engineArgs.getOrDefault(n, List.of()));
            javaProcesses.add(engine);
            engines.put(n, engine);
            engine.start();
        }
        await("nodes online").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> NODES.stream().allMatch(n -> {
            HttpResponse<String> r = send("GET", "/v0/nodes/" + n, null);
            return r != null && r.statusCode() == 200 && r.body().contains("\"Online\"");
        }));
        for (String n : NODES) {
            HttpResponse<String> r = send("PUT", "/v0/nodes/" + n + "/pools/pool-" + n,
                    "{\"disks\":[\"uring://" + dir.resolve(n + ".img") + "?size_mb=256\"],\"labels\":{\"tier\":\"fast\"}}");
            assertThat(r).as("pool on " + n).isNotNull();
            assertThat(r.statusCode()).as("create pool on %s: %s", n, r.body()).isEqualTo(200);
        }
    }

    public String url() {
        return gatewayUrl;
    }

    /** etcd's client URL (mTLS), for another core agent under its own cluster prefix. */
    public String etcdEndpoint() {
        return etcdEndpoint;
    }

    /** The directory of the stack's files and logs. */
    public Path dir() {
        return dir;
    }

    /** The core agent's gRPC address, 127.0.0.1:PORT. */
    public String agentAddress() {
        return agentAddress;
    }

    /** One of {@link #NODES}' io-engine processes (to kill or freeze it). */
    public IoEngineProcess engine(String node) {
        return java.util.Objects.requireNonNull(engines.get(node), node);
    }

    /**
     * A file holding a new token with this role for a client of the gateway: the CSI controller gets an operator's, as
     * in the chart (it creates, publishes and resizes volumes, and nothing else).
     */
    public Path tokenFile(String role) throws IOException, InterruptedException {
        return gateway.tokenFile(role);
    }

    /** A gateway call (v0 API paths, e.g. {@code /v0/volumes/<id>/target}); null when the gateway cannot be reached. */
    public HttpResponse<String> call(String method, String path, String body) {
        return send(method, path, body);
    }

    private void start(String name, List<String> cmd, Supplier<Boolean> ready) throws IOException {
        Path log = dir.resolve(name + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        processes.add(p);
        await(name + " ready").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(250)).until(() -> {
            if (!p.isAlive()) {
                throw new IllegalStateException(name + " exited " + p.exitValue() + ": " + Files.readString(log));
            }
            return ready.get();
        });
    }

    private boolean ok(String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private HttpResponse<String> send(String method, String path, String body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gatewayUrl + path)).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json").header("Authorization", "Bearer " + adminToken)
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    @Override
    public void close() throws Exception {
        for (int i = javaProcesses.size() - 1; i >= 0; i--) {
            javaProcesses.get(i).close();
        }
        for (int i = processes.size() - 1; i >= 0; i--) {
            Process p = processes.get(i);
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
    }
}
