package io.javastor.gateway.testsupport;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.testsupport.IoEngineProcess;
import io.javastor.testsupport.ProcessCluster;

/**
 * One real cluster for the whole test run, shared by the test classes that register this
 * extension: etcd, a core agent and three io-engines with a file pool each (a {@link ProcessCluster}), and a gateway
 * in front (in this JVM). Closed when the run ends (JUnit closes the root store).
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
        } catch (org.opentest4j.TestAbortedException skipped) {
            throw skipped;
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
        return running.processes.agent().address();
    }

    public Path dir() {
        return running.processes.dir();
    }

    /** The io-engine process of this node. */
    public IoEngineProcess engine(String node) {
        return running.processes.node(node);
    }

    public static String poolOf(String node) {
        return ProcessCluster.poolOf(node);
    }

    static final class Running implements AutoCloseable {
        final EtcdExtension etcd = new EtcdExtension();
        ProcessCluster processes;
        RunningGateway gateway;

        /** {@code clusterName}: the core agent's cluster, the prefix of its keys in the run's etcd. */
        static Running start(String clusterName) {
            Running r = new Running();
            try {
                r.etcd.beforeAll(null);
                // The gateway runs in this JVM (the tests read its beans and meters); the rest are processes.
                r.processes = ProcessCluster.on(r.etcd.endpoint(), clusterName).nodes(NODES.toArray(String[]::new))
                        .pools(256, Map.of("class", "file")).start();
                r.gateway = RunningGateway.start(r.processes.agent().address(), Map.of());
            } catch (Exception | AssertionError e) {
                // Leave no process behind when the start fails half-way.
                try {
                    r.close();
                } catch (Exception closing) {
                    e.addSuppressed(closing);
                }
                if (e instanceof org.opentest4j.TestAbortedException skipped) {
                    throw skipped; // a jar or etcd is missing here: skipped, saying why
                }
                throw new IllegalStateException("cluster did not start", e);
            }
            return r;
        }

        @Override
        public void close() throws Exception {
            try {
                if (gateway != null) {
                    gateway.close();
                }
                if (processes != null) {
                    processes.close();
                }
            } finally {
                etcd.afterAll(null);
            }
        }
    }
}
