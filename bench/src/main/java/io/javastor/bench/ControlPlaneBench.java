package io.javastor.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import io.grpc.ManagedChannel;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.api.tls.ClusterTls;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.CreatePoolRequest;
import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.GetNodeRequest;
import io.javastor.api.core.v1.NodeServiceGrpc;
import io.javastor.api.core.v1.NodeStatus;
import io.javastor.api.core.v1.PoolServiceGrpc;
import io.javastor.api.core.v1.PublishVolumeRequest;
import io.javastor.api.core.v1.VolumeServiceGrpc;

/**
 * {@code bench/run control-plane}: a real etcd, one core agent and three io-engines (separate
 * processes, pools on files), then N volumes of 3 replicas created and published one after the
 * other, then destroyed (which unpublishes); prints key=value lines with latency percentiles. Not a test: it measures, it does not judge.
 *
 * <p>Arguments: agentJar ioEngineJar workDir [volumes] [etcdBinary]
 */
public final class ControlPlaneBench {

    private static final long MIB = 1 << 20;

    private final List<Process> processes = new ArrayList<>();
    private final Path work;

    private final Path tlsDir;

    private ControlPlaneBench(Path work, Path tlsDir) {
        this.work = work;
        this.tlsDir = tlsDir;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: ControlPlaneBench AGENT_JAR IO_ENGINE_JAR WORK_DIR [VOLUMES] [ETCD_BINARY]");
            System.exit(2);
        }
        Path agentJar = Path.of(args[0]);
        Path engineJar = Path.of(args[1]);
        Path work = Path.of(args[2]);
        int volumes = args.length > 3 ? Integer.parseInt(args[3]) : 1000;
        String etcdBinary = args.length > 4 ? args[4] : "/usr/bin/etcd";
        ControlPlaneBench bench = new ControlPlaneBench(work, Path.of(args.length > 5 ? args[5] : work.resolve("tls").toString()));
        Runtime.getRuntime().addShutdownHook(new Thread(bench::stopAll));
        try {
            bench.run(agentJar, engineJar, volumes, etcdBinary);
        } finally {
            bench.stopAll();
        }
    }

    /** One {@code --javastor.tls.*} argument of a component started with certificate {@code name} from tlsDir. */
    private String tls(String name, String property) {
        String file = switch (property) {
            case "ca-file" -> "ca.crt";
            case "cert-file" -> name + ".crt";
            default -> name + ".key";
        };
        return "--javastor.tls." + property + "=" + tlsDir.resolve(file);
    }

    private void run(Path agentJar, Path engineJar, int volumes, String etcdBinary) throws Exception {
        long t0 = System.nanoTime();
        int etcdPort = freePort();
        int peerPort = freePort();
        int metricsPort = freePort();
        // etcd serves clients with mTLS only (as deployed); health on a plaintext metrics port.
        start("etcd", List.of(etcdBinary, "--name", "bench", "--data-dir", work.resolve("etcd").toString(),
                "--listen-client-urls", "https://127.0.0.1:" + etcdPort, "--advertise-client-urls", "https://127.0.0.1:" + etcdPort,
                "--cert-file", tlsDir.resolve("etcd.crt").toString(), "--key-file", tlsDir.resolve("etcd.key").toString(),
                "--trusted-ca-file", tlsDir.resolve("ca.crt").toString(), "--client-cert-auth",
                "--listen-metrics-urls", "http://127.0.0.1:" + metricsPort,
                "--listen-peer-urls", "http://127.0.0.1:" + peerPort, "--initial-advertise-peer-urls", "http://127.0.0.1:" + peerPort,
                "--initial-cluster", "bench=http://127.0.0.1:" + peerPort, "--log-level", "warn"));
        waitHttp("http://127.0.0.1:" + metricsPort + "/health");

        int agentGrpc = freePort();
        int agentHttp = freePort();
        start("core-agent", List.of(java(), "-Xmx512m", "-jar", agentJar.toString(),
                "--spring.grpc.server.address=127.0.0.1:" + agentGrpc, "--server.port=" + agentHttp,
                "--javastor.core.etcd.endpoints=https://127.0.0.1:" + etcdPort, "--javastor.core.cluster=bench",
                "--logging.level.io.javastor=WARN", tls("core-agent", "ca-file"), tls("core-agent", "cert-file"),
                tls("core-agent", "key-file")));
        waitHttp("http://127.0.0.1:" + agentHttp + "/actuator/health/readiness");
        // The bench calls the agent's API as the REST gateway does (mTLS, with the certificates bench/control-plane.sh made).
        ManagedChannel channel = new ClusterTls(true, tlsDir.resolve("ca.crt"), tlsDir.resolve("rest-gateway.crt"),
                tlsDir.resolve("rest-gateway.key")).channelTo("127.0.0.1:" + agentGrpc, ClusterPeer.CORE_AGENT).build();

        for (int i = 1; i <= 3; i++) {
            int grpc = freePort();
            int http = freePort();
            start("node-" + i, List.of(java(), "-Xmx384m", "-XX:+UseSerialGC", "-jar", engineJar.toString(),
                    "--javastor.io-engine.node-name=node-" + i, "--javastor.io-engine.core-agent-endpoint=127.0.0.1:" + agentGrpc,
                    "--spring.grpc.server.host=127.0.0.1", "--spring.grpc.server.port=" + grpc,
                    "--javastor.io-engine.nvmf.port=" + freePort(),
                    "--javastor.io-engine.disk-policy.allowed-paths=" + work.toAbsolutePath().normalize() + "/**",
                    "--server.address=127.0.0.1", "--server.port=" + http, "--logging.level.io.javastor=WARN",
                    tls("node-node-" + i, "ca-file"), tls("node-node-" + i, "cert-file"), tls("node-node-" + i, "key-file")));
        }
        var nodes = NodeServiceGrpc.newBlockingStub(channel);
        waitUntil("3 nodes Online", Duration.ofSeconds(120), () -> {
            for (int i = 1; i <= 3; i++) {
                try {
                    if (nodes.getNode(GetNodeRequest.newBuilder().setId("node-" + i).build()).getStatus() != NodeStatus.NODE_STATUS_ONLINE) {
                        return false;
                    }
                } catch (StatusRuntimeException e) {
                    return false;
                }
            }
            return true;
        });
        var pools = PoolServiceGrpc.newBlockingStub(channel);
        // Thin 4 MiB volumes: a pool holds every replica of the run without writing gigabytes.
        for (int i = 1; i <= 3; i++) {
            pools.createPool(CreatePoolRequest.newBuilder().setId("pool-" + i).setNodeId("node-" + i)
                    .addDisks("uring://" + work.resolve("node-" + i + ".img") + "?size_mb=2048").build());
        }
        long setupNanos = System.nanoTime() - t0;

        var api = VolumeServiceGrpc.newBlockingStub(channel);
        // Warm-up (JIT, channels), not counted.
        for (int i = 0; i < 20; i++) {
            String uuid = UUID.randomUUID().toString();
            api.createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(4 * MIB).setReplicaCount(3).setThin(true).build());
            api.destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
        }
        List<String> uuids = new ArrayList<>(volumes);
        long[] create = new long[volumes];
        long[] publish = new long[volumes];
        long[] destroy = new long[volumes];
        long runStart = System.nanoTime();
        for (int i = 0; i < volumes; i++) {
            String uuid = UUID.randomUUID().toString();
            long s = System.nanoTime();
            api.withDeadlineAfter(60, TimeUnit.SECONDS).createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid)
                    .setSize(4 * MIB).setReplicaCount(3).setThin(true).build());
            create[i] = System.nanoTime() - s;
            uuids.add(uuid);
            s = System.nanoTime();
            api.withDeadlineAfter(60, TimeUnit.SECONDS).publishVolume(PublishVolumeRequest.newBuilder().setUuid(uuid).addAllowedHosts("nqn.2019-05.io.javastor:node-name:bench-host").build());
            publish[i] = System.nanoTime() - s;
        }
        for (int i = 0; i < volumes; i++) {
            long s = System.nanoTime();
            api.withDeadlineAfter(60, TimeUnit.SECONDS).destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuids.get(i)).build());
            destroy[i] = System.nanoTime() - s;
        }
        long runNanos = System.nanoTime() - runStart;
        channel.shutdownNow();

        System.out.println("volumes=" + volumes);
        System.out.println("replicas_per_volume=3");
        System.out.println("create_p50_ms=" + ms(percentile(create, 50)));
        System.out.println("create_p99_ms=" + ms(percentile(create, 99)));
        System.out.println("create_max_ms=" + ms(percentile(create, 100)));
        System.out.println("destroy_p50_ms=" + ms(percentile(destroy, 50)));
        System.out.println("destroy_p99_ms=" + ms(percentile(destroy, 99)));
        System.out.println("publish_p50_ms=" + ms(percentile(publish, 50)));
        System.out.println("publish_p99_ms=" + ms(percentile(publish, 99)));
        System.out.println("setup_s=" + String.format("%.1f", setupNanos / 1e9));
        System.out.println("total_s=" + String.format("%.1f", runNanos / 1e9));
    }

    private static long percentile(long[] values, int p) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    private static String ms(long nanos) {
        return String.format("%.1f", nanos / 1e6);
    }

    private void start(String name, List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(work.resolve(name + ".log").toFile()).start();
        processes.add(p);
    }

    private void stopAll() {
        for (int i = processes.size() - 1; i >= 0; i--) {
            processes.get(i).destroy();
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(15, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        processes.clear();
    }

    private void waitHttp(String url) throws InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        waitUntil(url, Duration.ofSeconds(120), () -> {
            try {
                return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        });
    }

    private void waitUntil(String what, Duration limit, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            for (Process p : processes) {
                if (!p.isAlive()) {
                    throw new IllegalStateException("a process exited while waiting for " + what + "; logs in " + work);
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what + "; logs in " + work);
            }
            Thread.sleep(100); // polling a child process from a main(), not test synchronisation
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
