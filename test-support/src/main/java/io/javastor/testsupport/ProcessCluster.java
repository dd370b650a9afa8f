package io.javastor.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * A cluster of processes as production runs them, on a test's etcd: a core agent, optionally the REST gateway, and
 * io-engines Online with a file pool each (or none, for a test that makes its own). The one builder the process-level
 * tests share (the core agent's own tests run the agent in their JVM: its TestCluster builds on {@link StorageNodes}
 * too). Everything under one temp directory (logs, pool files), deleted on close; a start that fails part-way stops
 * what had started.
 * <pre>{@code
 * ProcessCluster c = ProcessCluster.on(etcd.endpoint(), "kubectl").nodes("node-1", "node-2").pools(64).withGateway().start();
 * }</pre>
 */
public final class ProcessCluster implements AutoCloseable {

    private final Path dir;
    private CoreAgentProcess agent;
    private RestGatewayProcess gateway;
    private StorageNodes storage;

    private ProcessCluster(Path dir) {
        this.dir = dir;
    }

    /** A cluster named {@code name} (the agent's key prefix in etcd, so clusters can share one etcd). */
    public static Builder on(String etcdEndpoint, String name) {
        return new Builder(etcdEndpoint, name);
    }

    public static final class Builder {
        private final String etcdEndpoint;
        private final String name;
        private List<String> nodes = List.of();
        private int poolSizeMb;
        private Map<String, String> poolLabels = Map.of();
        private boolean gateway;

        private Builder(String etcdEndpoint, String name) {
            this.etcdEndpoint = etcdEndpoint;
            this.name = name;
        }

        public Builder nodes(String... names) {
            this.nodes = List.of(names);
            return this;
        }

        /** A file pool {@code pool-<node>} of this size on each node, made through the agent and Online before start returns. */
        public Builder pools(int sizeMb) {
            return pools(sizeMb, Map.of());
        }

        public Builder pools(int sizeMb, Map<String, String> labels) {
            if (sizeMb <= 0) {
                throw new IllegalArgumentException("pool size must be positive, was " + sizeMb + " MiB (leave pools out for none)");
            }
            this.poolSizeMb = sizeMb;
            this.poolLabels = Map.copyOf(labels);
            return this;
        }

        /** The REST gateway as a process too (authentication and TLS on, as everywhere). */
        public Builder withGateway() {
            this.gateway = true;
            return this;
        }

        public ProcessCluster start() throws Exception {
            // Skip early, saying why, when a jar was not built.
            CoreAgentProcess.jar();
            JavaProcess.execJar(JavaProcess.IO_ENGINE_JAR);
            if (gateway) {
                JavaProcess.execJar(JavaProcess.GATEWAY_JAR);
            }
            ProcessCluster c = new ProcessCluster(Files.createTempDirectory("javastor-" + name + "-"));
            try {
                c.agent = new CoreAgentProcess(etcdEndpoint, name, c.dir).start();
                if (gateway) {
                    c.gateway = new RestGatewayProcess(c.agent.address(), c.dir).start();
                }
                // A channel for the set-up only, shut down after it (gRPC logs an ERROR for a channel collected open).
                io.grpc.ManagedChannel setUp = c.agent.apiChannel();
                try {
                    c.storage = StorageNodes.start(nodes, c.agent.address(), setUp, c.dir, poolSizeMb, poolLabels);
                } finally {
                    setUp.shutdownNow();
                }
            } catch (Exception | Error e) {
                try {
                    c.close();
                } catch (Exception closing) {
                    e.addSuppressed(closing);
                }
                throw e;
            }
            return c;
        }
    }

    public CoreAgentProcess agent() {
        return agent;
    }

    /** The gateway process; only in a cluster started {@link Builder#withGateway() with one}. */
    public RestGatewayProcess gateway() {
        if (gateway == null) {
            throw new IllegalStateException("this cluster was started without a gateway (ProcessCluster.Builder.withGateway)");
        }
        return gateway;
    }

    public List<IoEngineProcess> nodes() {
        return storage.engines();
    }

    public IoEngineProcess node(String name) {
        return storage.engine(name);
    }

    /** Logs and pool files; a test may put its own files here (deleted with the cluster). */
    public Path dir() {
        return dir;
    }

    public static String poolOf(String node) {
        return StorageNodes.poolOf(node);
    }

    /** Stops the io-engines, the gateway and the agent (all of them, reporting the first failure), then deletes the directory. */
    @Override
    public void close() throws Exception {
        List<Exception> failures = new ArrayList<>();
        for (AutoCloseable part : new AutoCloseable[] {storage, gateway, agent}) {
            if (part == null) {
                continue;
            }
            try {
                part.close();
            } catch (Exception e) {
                failures.add(e);
            }
        }
        try (var paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            failures.add(e);
        }
        if (!failures.isEmpty()) {
            Exception first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }
}
