package io.javastor.testsupport;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.grpc.ManagedChannel;
import io.javastor.api.tls.ClusterPeer;

/**
 * The real core agent (its exec jar, {@link JavaProcess#CORE_AGENT_JAR}) in its own JVM on loopback ports fixed at
 * construction, so it can be stopped, killed, frozen and started again at the address the others were given. Short
 * leases, heartbeats and reconcile intervals, so tests see failover and healing in seconds; events in an in-memory H2.
 */
public final class CoreAgentProcess implements AutoCloseable {
    private final String cluster;
    private final int grpcPort = FreePorts.next();
    private final int httpPort = FreePorts.next();
    private final JavaProcess process;

    public CoreAgentProcess(String etcdEndpoint, String cluster, Path logDir) {
        this(etcdEndpoint, cluster, logDir, List.of());
    }

    /** {@code extraArgs} ({@code --name=value}) replace the defaults below or add to them. */
    public CoreAgentProcess(String etcdEndpoint, String cluster, Path logDir, List<String> extraArgs) {
        this.cluster = cluster;
        Map<String, String> props = new LinkedHashMap<>();
        props.put("spring.grpc.server.address", "127.0.0.1:" + grpcPort);
        props.put("server.address", "127.0.0.1");
        props.put("server.port", Integer.toString(httpPort));
        props.put("javastor.core.etcd.endpoints", etcdEndpoint);
        props.put("javastor.core.cluster", cluster);
        props.put("javastor.core.agent-id", "agent-" + cluster);
        props.put("javastor.core.leader.ttl", "2s");
        props.put("javastor.core.nodes.heartbeat-interval", "300ms");
        props.put("javastor.core.nodes.heartbeat-timeout", "3s");
        props.put("javastor.core.nodes.call-timeout", "5s");
        props.put("javastor.core.reconcile.interval", "300ms");
        props.put("spring.datasource.url", "jdbc:h2:mem:" + cluster + ";DB_CLOSE_DELAY=-1");
        props.putAll(ClusterCertificates.shared().springProperties(ClusterPeer.CORE_AGENT)); // mTLS, as in production
        List<String> args = JavaProcess.springArgs(props, extraArgs);
        // ready = leading: its readiness includes leadership
        this.process = new JavaProcess("core agent " + cluster, JavaProcess.Program.jar(JavaProcess.CORE_AGENT_JAR),
                List.of("-Xmx256m"), args, logDir.resolve("core-agent-" + cluster + ".log"),
                () -> JavaProcess.httpOk("http://127.0.0.1:" + httpPort + "/actuator/health/readiness"), Duration.ofSeconds(120));
    }

    /** Skips the test, saying why, when the core agent's jar was not built. */
    public static Path jar() {
        return JavaProcess.execJar(JavaProcess.CORE_AGENT_JAR);
    }

    public String address() {
        return "127.0.0.1:" + grpcPort;
    }

    /** A new channel to its API, proving itself as the REST gateway does (the peer the agent serves its API to). */
    public ManagedChannel apiChannel() {
        return channelAs(ClusterPeer.REST_GATEWAY);
    }

    /** A new channel to its API proving itself as {@code peer} (a CSI node plugin, say, the only one given hosts' secrets). */
    public ManagedChannel channelAs(ClusterPeer peer) {
        return ClusterCertificates.shared().of(peer).channelTo(address(), ClusterPeer.CORE_AGENT).build();
    }

    public int grpcPort() {
        return grpcPort;
    }

    /** Starts it (again, on the same ports, after a stop or a kill) and waits until it leads. */
    public CoreAgentProcess start() throws IOException {
        process.start();
        return this;
    }

    public Path log() {
        return process.log();
    }

    public long pid() {
        return process.pid();
    }

    public void kill9() throws IOException, InterruptedException {
        process.kill9();
    }

    public void freeze() throws IOException, InterruptedException {
        process.freeze();
    }

    public void thaw() throws IOException, InterruptedException {
        process.thaw();
    }

    public void stop() throws IOException, InterruptedException {
        process.stop();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        process.stop();
    }
}
