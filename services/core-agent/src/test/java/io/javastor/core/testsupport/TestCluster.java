package io.javastor.core.testsupport;

import io.javastor.testsupport.ClusterCertificates;
import io.javastor.testsupport.JavaProcess;

import io.javastor.testsupport.IoEngineProcess;
import io.javastor.testsupport.StorageNodes;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import io.etcd.jetcd.Client;
import io.javastor.core.leader.LeaderElection;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.core.store.EtcdConnection;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.WriteFence;

/**
 * A small real cluster for tests: one core agent (leader) on the test's etcd, N io-engine processes started in
 * parallel and Online, one file pool per node ("pool-node-i") Online, and a second view of the spec store (as
 * another agent would see it). Closing stops everything and deletes the pool files.
 */
public final class TestCluster implements AutoCloseable {
    private final Path dir;
    private final String etcdEndpoint;
    private final Settings settings;
    private RunningAgent agent;
    private StorageNodes storage;
    private final Client etcdClient;
    private final SpecStore specs;

    /** What differs between the tests that use one. */
    public record Settings(String cluster, String agentId, Map<String, String> agentOverrides, int nodes, int poolSizeMb,
                           Map<String, String> poolLabels) {
    }

    private TestCluster(String etcdEndpoint, Settings s) throws Exception {
        JavaProcess.execJar(JavaProcess.IO_ENGINE_JAR); // skips early, with the reason, when the io-engine was not built
        this.dir = Files.createTempDirectory("javastor-" + s.cluster() + "-");
        this.etcdEndpoint = etcdEndpoint;
        this.settings = s;
        this.agent = RunningAgent.start(etcdEndpoint, s.cluster(), s.agentId(), s.agentOverrides());
        this.etcdClient = EtcdConnection.open(List.of(etcdEndpoint), ClusterCertificates.shared().of(ClusterPeer.CORE_AGENT));
        this.specs = new SpecStore(etcdClient.getKVClient(), s.cluster(), WriteFence.NONE, 5000);
        try {
            startNodesAndPools(s);
        } catch (Exception | Error e) {
            try {
                close();
            } catch (Exception closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    private void startNodesAndPools(Settings s) throws Exception {
        await("agent leads").atMost(Duration.ofSeconds(20)).until(() -> agent.bean(LeaderElection.class).isLeader());
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= s.nodes(); i++) {
            names.add("node-" + i);
        }
        storage = StorageNodes.start(names, "127.0.0.1:" + agent.grpcPort(), agent.channel(), dir, s.poolSizeMb(), s.poolLabels());
    }

    /** Starts the cluster; on a failure part-way, stops what had started. */
    public static TestCluster start(String etcdEndpoint, Settings settings) throws Exception {
        return new TestCluster(etcdEndpoint, settings);
    }

    public static String poolOf(String node) {
        return StorageNodes.poolOf(node);
    }

    public RunningAgent agent() {
        return agent;
    }

    /**
     * Stops the agent and starts it again on the same gRPC port (the io-engines are configured with it and register
     * again) and the same database settings: what it keeps outside its memory must be there again.
     */
    public RunningAgent restartAgent() throws InterruptedException {
        int port = agent.grpcPort();
        agent.close();
        Map<String, String> overrides = new java.util.HashMap<>(settings.agentOverrides());
        overrides.put("spring.grpc.server.address", "127.0.0.1:" + port);
        // The port may take a moment to be free again after the old server closed.
        RunningAgent[] started = new RunningAgent[1];
        await("agent restarted on port " + port).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .until(() -> {
                    started[0] = RunningAgent.start(etcdEndpoint, settings.cluster(), settings.agentId(), overrides);
                    return true;
                });
        agent = started[0];
        await("agent leads again").atMost(Duration.ofSeconds(30)).until(() -> agent.bean(LeaderElection.class).isLeader());
        return agent;
    }

    public List<IoEngineProcess> nodes() {
        return storage.engines();
    }

    public IoEngineProcess node(String name) {
        return storage.engine(name);
    }

    public Path dir() {
        return dir;
    }

    /** The spec store as another agent of the same cluster sees it (no write fence). */
    /** The test's own etcd client (as the core agent). */
    public Client etcdClient() {
        return etcdClient;
    }

    public SpecStore specs() {
        return specs;
    }

    /** Waits until the agent reports every named node Online. */
    public void awaitOnline(String... names) {
        StorageNodes.awaitOnline(agent.channel(), List.of(names));
    }

    @Override
    public void close() throws Exception {
        if (storage != null) {
            storage.close();
        }
        agent.close();
        etcdClient.close();
        try (var paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("TestCluster: could not delete " + dir + ": " + e);
        }
    }
}
