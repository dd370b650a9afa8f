package io.javastor.gateway.testsupport;

import io.javastor.testsupport.JavaProcess;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.testsupport.CoreAgentProcess;
import io.javastor.testsupport.IoEngineProcess;

/**
 * One real cluster for the whole test run, shared by the test classes that register this
 * extension: etcd, a core agent, three io-engines with a file pool each (created through the
 * gateway), and a gateway in front. Closed when the run ends (JUnit closes the root store).
 * A test class that breaks its cluster (kills a node) takes one of its own: {@link #ofItsOwn()}.
 */
public final class StorageCluster implements BeforeAllCallback {

    public static final List<String> NODES = List.of("node-1", "node-2", "node-3");
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(StorageCluster.class);
    private static final ExtensionContext.Namespace OWN = ExtensionContext.Namespace.create(StorageCluster.class, "own");

    private Running running;
    private final boolean shared;

    /** The run's shared cluster. */
    public StorageCluster() {
        this(true);
    }

    private StorageCluster(boolean shared) {
        this.shared = shared;
    }

    /** A cluster for one test class only, closed after it: the others never see what the class does to it. */
    public static StorageCluster ofItsOwn() {
        return new StorageCluster(false);
    }

    /** A start that failed is not tried again by every test class: they all fail with its cause. */
    private static volatile RuntimeException startFailure;

    @Override
    public void beforeAll(ExtensionContext context) {
        if (!shared) {
            // Its own cluster name too: the etcd server is the run's, and under the shared name the class would see
            // (and share leadership with) the shared cluster's agent, nodes and volumes.
            String name = "rest-" + context.getRequiredTestClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
            // Its own namespace: a class's store also answers with its parents' values, and the root store holds the
            // shared cluster under NS once any class started it.
            running = context.getStore(OWN).computeIfAbsent(Running.class, k -> Running.start(name), Running.class);
            return;
        }
        if (startFailure != null) {
            throw new IllegalStateException("the shared cluster failed to start earlier", startFailure);
        }
        try {
            running = context.getRoot().getStore(NS).computeIfAbsent(Running.class, k -> Running.start("rest"), Running.class);
        } catch (RuntimeException e) {
            startFailure = e;
            throw e;
        }
    }

    public RunningGateway gateway() {
        return running.gateway;
    }

    public String etcdEndpoint() {
        return running.etcd.endpoint();
    }

    public String agentAddress() {
        return running.agent.address();
    }

    public Path dir() {
        return running.dir;
    }

    /** The io-engine process of this node. */
    public IoEngineProcess engine(String node) {
        return running.engines.stream().filter(e -> e.name().equals(node)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no io-engine " + node + "; the nodes are " + NODES));
    }

    public static String poolOf(String node) {
        return "pool-" + node;
    }

    static final class Running implements AutoCloseable {
        final Path dir;
        final EtcdExtension etcd = new EtcdExtension();
        CoreAgentProcess agent;
        final List<IoEngineProcess> engines = new ArrayList<>();
        RunningGateway gateway;

        final String clusterName;

        private Running(Path dir, String clusterName) {
            this.dir = dir;
            this.clusterName = clusterName;
        }

        /** {@code clusterName}: the core agent's cluster, the prefix of its keys in the run's etcd. */
        static Running start(String clusterName) {
            JavaProcess.execJar(JavaProcess.IO_ENGINE_JAR); // skip early, with the reason, when the io-engine was not built
            CoreAgentProcess.jar();
            Running r;
            try {
                r = new Running(Files.createTempDirectory("javastor-rest-"), clusterName);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            try {
                r.startParts();
            } catch (Exception | AssertionError e) {
                // Leave no process behind when the start fails half-way.
                try {
                    r.close();
                } catch (Exception closing) {
                    e.addSuppressed(closing);
                }
                throw new IllegalStateException("cluster did not start", e);
            }
            return r;
        }

        private void startParts() throws Exception {
            etcd.beforeAll(null);
            agent = new CoreAgentProcess(etcd.endpoint(), clusterName, dir).start();
            gateway = RunningGateway.start(agent.address(), Map.of());
            for (String n : NODES) {
                engines.add(IoEngineProcess.fromJar(n, agent.address(), dir));
            }
            IoEngineProcess.startAll(engines);
            Awaitility.await("nodes online").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                    .until(() -> NODES.stream().allMatch(n -> {
                        var reply = gateway.get("/v0/nodes/" + n);
                        return reply.status() == 200 && reply.json().path("state").path("status").asString().equals("Online");
                    }));
            for (String n : NODES) {
                var reply = gateway.put("/v0/nodes/" + n + "/pools/" + poolOf(n),
                        Map.of("disks", List.of("uring://" + dir.resolve(n + ".img") + "?size_mb=256"), "labels", Map.of("class", "file")));
                assertThat(reply.status()).as("create pool on %s: %s", n, reply).isEqualTo(200);
            }
        }

        @Override
        public void close() throws Exception {
            if (gateway != null) {
                gateway.close();
            }
            for (IoEngineProcess e : engines) {
                e.close();
            }
            if (agent != null) {
                agent.close();
            }
            etcd.afterAll(null);
            try (var paths = Files.walk(dir)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
