package io.javastor.testsupport;

import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.CreatePoolRequest;
import io.javastor.api.core.v1.GetNodeRequest;
import io.javastor.api.core.v1.GetPoolRequest;
import io.javastor.api.core.v1.NodeServiceGrpc;
import io.javastor.api.core.v1.NodeStatus;
import io.javastor.api.core.v1.PoolServiceGrpc;
import io.javastor.api.core.v1.PoolStatus;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * The storage half of a test cluster: io-engine processes registered with one core agent, Online, each with a file
 * pool {@code pool-<node>} made through the agent's gRPC API and Online. The agent, etcd and the rest stay with each
 * module's cluster (an agent in the test's JVM, or a process), which builds on this.
 */
public final class StorageNodes implements AutoCloseable {
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    private final List<IoEngineProcess> engines;

    private StorageNodes(List<IoEngineProcess> engines) {
        this.engines = List.copyOf(engines);
    }

    public static String poolOf(String node) {
        return "pool-" + node;
    }

    /**
     * Starts an io-engine per name (in parallel, logs in {@code dir}) registering at {@code agentAddress}, waits until
     * the agent on {@code agent} has them Online, then makes and waits for their pools (files in {@code dir}); with
     * {@code poolSizeMb} 0, no pools (the test makes its own). On a failure part-way, stops what had started.
     */
    public static StorageNodes start(List<String> names, String agentAddress, Channel agent, Path dir, int poolSizeMb,
                                     Map<String, String> poolLabels) throws Exception {
        List<IoEngineProcess> engines = new ArrayList<>();
        for (String n : names) {
            engines.add(IoEngineProcess.fromJar(n, agentAddress, dir));
        }
        StorageNodes nodes = new StorageNodes(engines);
        try {
            IoEngineProcess.startAll(engines);
            awaitOnline(agent, names);
            if (poolSizeMb == 0) {
                return nodes;
            }
            var pools = PoolServiceGrpc.newBlockingStub(agent);
            for (String n : names) {
                pools.withDeadlineAfter(60, TimeUnit.SECONDS).createPool(CreatePoolRequest.newBuilder().setId(poolOf(n)).setNodeId(n)
                        .addDisks("uring://" + dir.resolve(n + ".img") + "?size_mb=" + poolSizeMb).putAllLabels(poolLabels).build());
            }
            // Set-up is done when the agent has observed every pool Online.
            await("pools Online").atMost(DEADLINE).until(() -> names.stream().allMatch(n -> {
                try {
                    return pools.withDeadlineAfter(10, TimeUnit.SECONDS).getPool(GetPoolRequest.newBuilder().setId(poolOf(n)).build())
                            .getStatus() == PoolStatus.POOL_STATUS_ONLINE;
                } catch (StatusRuntimeException e) {
                    return false; // not observed yet: polled again until the deadline
                }
            }));
        } catch (Exception | Error e) {
            try {
                nodes.close();
            } catch (Exception closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
        return nodes;
    }

    /** Waits until the agent reports every named node Online. */
    public static void awaitOnline(Channel agent, Collection<String> names) {
        var api = NodeServiceGrpc.newBlockingStub(agent);
        await("nodes Online").atMost(DEADLINE).until(() -> names.stream().allMatch(n -> {
            try {
                return api.withDeadlineAfter(10, TimeUnit.SECONDS).getNode(GetNodeRequest.newBuilder().setId(n).build())
                        .getStatus() == NodeStatus.NODE_STATUS_ONLINE;
            } catch (StatusRuntimeException e) {
                return false; // not registered yet: polled again until the deadline
            }
        }));
    }

    public List<IoEngineProcess> engines() {
        return engines;
    }

    public IoEngineProcess engine(String name) {
        return engines.stream().filter(e -> e.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no io-engine " + name + " in " + engines.stream().map(IoEngineProcess::name).toList()));
    }

    @Override
    public void close() throws Exception {
        Exception first = null;
        for (IoEngineProcess e : engines) {
            try {
                e.close();
            } catch (Exception closing) { // close the others anyway, then report
                if (first == null) {
                    first = closing;
                } else {
                    first.addSuppressed(closing);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
