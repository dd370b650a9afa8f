package io.javastor.core.testsupport;

import io.javastor.testsupport.JavaProcess;

import io.javastor.testsupport.IoEngineProcess;

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
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.CreatePoolRequest;
import io.javastor.api.core.v1.GetNodeRequest;
import io.javastor.api.core.v1.GetPoolRequest;
import io.javastor.api.core.v1.NodeServiceGrpc;
import io.javastor.api.core.v1.NodeStatus;
import io.javastor.api.core.v1.PoolServiceGrpc;
import io.javastor.api.core.v1.PoolStatus;
import io.javastor.core.leader.LeaderElection;
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
    private final List<IoEngineProcess> nodes = new ArrayList<>();
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
        this.etcdClient = Client.builder().endpoints(etcdEndpoint).build();
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
        for (int i = 1; i <= s.nodes(); i++) {
            nodes.add(IoEngineProcess.fromJar("node-" + i, "127.0.0.1:" + agent.grpcPort(), dir));
        }
        IoEngineProcess.startAll(nodes);
        awaitOnline(nodes.stream().map(IoEngineProcess::name).toArray(String[]::new));
        var pools = PoolServiceGrpc.newBlockingStub(agent.channel());
        for (IoEngineProcess n : nodes) {
            pools.createPool(CreatePoolRequest.newBuilder().setId(poolOf(n.name())).setNodeId(n.name())
                    .addDisks("uring://" + dir.resolve(n.name() + ".img") + "?size_mb=" + s.poolSizeMb()).putAllLabels(s.poolLabels()).build());
        }
        // Set-up is done when the agent has observed every pool Online.
        await("pools Online").atMost(Duration.ofSeconds(60)).until(() -> nodes.stream().allMatch(n -> pools.getPool(
                GetPoolRequest.newBuilder().setId(poolOf(n.name())).build()).getStatus() == PoolStatus.POOL_STATUS_ONLINE));
    }

    /** Starts the cluster; on a failure part-way, stops what had started. */
    public static TestCluster start(String etcdEndpoint, Settings settings) throws Exception {
        return new TestCluster(etcdEndpoint, settings);
    }

    public static String poolOf(String node) {
        return "pool-" + node;
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
        return nodes;
    }

    public IoEngineProcess node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
    }

    public Path dir() {
        return dir;
    }

    /** The spec store as another agent of the same cluster sees it (no write fence). */
    public SpecStore specs() {
        return specs;
    }

    /** Waits until the agent reports every named node Online. */
    public void awaitOnline(String... names) {
        var api = NodeServiceGrpc.newBlockingStub(agent.channel());
        await("nodes Online").atMost(Duration.ofSeconds(60)).until(() -> {
            for (String name : names) {
                try {
                    if (api.getNode(GetNodeRequest.newBuilder().setId(name).build()).getStatus() != NodeStatus.NODE_STATUS_ONLINE) {
                        return false;
                    }
                } catch (StatusRuntimeException e) {
                    return false;
                }
            }
            return true;
        });
    }

    @Override
    public void close() throws Exception {
        for (IoEngineProcess n : nodes) {
            n.close();
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
