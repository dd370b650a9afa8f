package io.javastor.ioengine.process;

import io.javastor.testsupport.JavaProcess;

import io.javastor.testsupport.IoEngineProcess;

import io.javastor.testsupport.FreePorts;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.ioengine.v1.CreatePoolRequest;
import io.javastor.api.ioengine.v1.CreateReplicaRequest;
import io.javastor.api.ioengine.v1.DestroyPoolRequest;
import io.javastor.api.ioengine.v1.DestroyReplicaRequest;
import io.javastor.api.ioengine.v1.GetNodeInfoRequest;
import io.javastor.api.ioengine.v1.ImportPoolRequest;
import io.javastor.api.ioengine.v1.ListPoolsRequest;
import io.javastor.api.ioengine.v1.ListReplicasRequest;
import io.javastor.api.ioengine.v1.Pool;
import io.javastor.api.ioengine.v1.PoolStatus;
import io.javastor.api.ioengine.v1.Replica;
import io.javastor.api.ioengine.v1.ResizeReplicaRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The io-engine as users run it: a Spring Boot process with its gRPC API, killed and restarted. */
class IoEngineProcessTest {
    private static final long MiB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void grpcApiCreatesListsResizesDestroysIdempotentlyAndRejectsBadInputByField() throws Exception {
        String disk = "uring://" + dir.resolve("pool.img") + "?size_mb=128";
        try (IoEngineProcess engine = IoEngineProcess.fromClasspath("node-a", List.of(), dir.resolve("engine.log"), List.of()).start()) {
            assertThat(engine.api().node().getNodeInfo(GetNodeInfoRequest.getDefaultInstance()).getNodeNqn())
                    .isEqualTo("nqn.2019-05.io.javastor:node-name:node-a");
            Pool pool = engine.api().pools().createPool(CreatePoolRequest.newBuilder().setName("p1").addDisks(disk).build());
            assertThat(pool.getStatus()).isEqualTo(PoolStatus.POOL_STATUS_ONLINE);
            assertThat(pool.getCapacity()).isPositive();
            assertThat(engine.api().pools().createPool(CreatePoolRequest.newBuilder().setName("p1").addDisks(disk).build()).getUuid())
                    .as("identical create returns the pool").isEqualTo(pool.getUuid());

            String id = UUID.randomUUID().toString();
            CreateReplicaRequest create = CreateReplicaRequest.newBuilder().setUuid(id).setPool("p1").setSize(16 * MiB).setThin(true).build();
            Replica r = engine.api().replicas().createReplica(create);
            assertThat(r.getUri()).isEqualTo("bdev:///" + id);
            assertThat(engine.api().replicas().createReplica(create)).as("identical create returns the replica").isEqualTo(r);
            expect(Status.Code.ALREADY_EXISTS, "exists", () -> engine.api().replicas().createReplica(create.toBuilder().setSize(32 * MiB).build()));
            assertThat(engine.api().replicas().resizeReplica(ResizeReplicaRequest.newBuilder().setUuid(id).setRequestedSize(20 * MiB).build()).getSize())
                    .isEqualTo(20 * MiB);
            Replica thick = engine.api().replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(UUID.randomUUID().toString())
                    .setPool("p1").setSize(8 * MiB).build());
            assertThat(engine.api().pools().listPools(ListPoolsRequest.getDefaultInstance()).getPools(0).getUsed()).isEqualTo(thick.getAllocated());

            // Bad input: the right code, a message naming the field, and nothing changed.
            expect(Status.Code.INVALID_ARGUMENT, "disks: disk URI 'nvme:///x' has unsupported scheme",
                    () -> engine.api().pools().createPool(CreatePoolRequest.newBuilder().setName("p2").addDisks("nvme:///x").build()));
            expect(Status.Code.INVALID_ARGUMENT, "name: must not contain '/'",
                    () -> engine.api().pools().createPool(CreatePoolRequest.newBuilder().setName("a/b").addDisks(disk).build()));
            expect(Status.Code.INVALID_ARGUMENT, "size: must be greater than 0",
                    () -> engine.api().replicas().createReplica(create.toBuilder().setUuid(UUID.randomUUID().toString()).setSize(0).build()));
            expect(Status.Code.INVALID_ARGUMENT, "size: " + (4 * MiB + 1) + " is not a multiple",
                    () -> engine.api().replicas().createReplica(create.toBuilder().setUuid(UUID.randomUUID().toString()).setSize(4 * MiB + 1).build()));
            expect(Status.Code.INVALID_ARGUMENT, "uuid: 'r1' is not a UUID",
                    () -> engine.api().replicas().createReplica(create.toBuilder().setUuid("r1").build()));
            expect(Status.Code.INVALID_ARGUMENT, "name: must not contain '/'",
                    () -> engine.api().replicas().createReplica(create.toBuilder().setUuid(UUID.randomUUID().toString()).setName("x/y").build()));
            expect(Status.Code.NOT_FOUND, "pool nope not found",
                    () -> engine.api().replicas().createReplica(create.toBuilder().setUuid(UUID.randomUUID().toString()).setPool("nope").build()));
            expect(Status.Code.RESOURCE_EXHAUSTED, "free clusters",
                    () -> engine.api().replicas().createReplica(create.toBuilder().setUuid(UUID.randomUUID().toString()).setThin(false).setSize(1024 * MiB).build()));
            expect(Status.Code.NOT_FOUND, "no pool found",
                    () -> engine.api().pools().importPool(ImportPoolRequest.newBuilder().setName("p9").addDisks("uring://" + dir.resolve("e.img") + "?size_mb=16").build()));
            assertThat(engine.api().replicas().listReplicas(ListReplicasRequest.getDefaultInstance()).getReplicasList())
                    .extracting(Replica::getUuid).containsExactlyInAnyOrder(id, thick.getUuid());
            assertThat(engine.api().pools().listPools(ListPoolsRequest.getDefaultInstance()).getPoolsList()).extracting(Pool::getName).containsExactly("p1");

            engine.api().replicas().destroyReplica(DestroyReplicaRequest.newBuilder().setUuid(id).build());
            engine.api().replicas().destroyReplica(DestroyReplicaRequest.newBuilder().setUuid(id).build());
            engine.api().pools().destroyPool(DestroyPoolRequest.newBuilder().setName("p1").build());
            assertThat(engine.api().pools().listPools(ListPoolsRequest.getDefaultInstance()).getPoolsList()).isEmpty();
        }
    }

    @Test
    void killedDuringReplicaOperationsItRestartsImportsAndKeepsEveryAcknowledgedReplica() throws Exception {
        String disk = "uring://" + dir.resolve("pool.img") + "?size_mb=512";
        Set<String> acked = java.util.concurrent.ConcurrentHashMap.newKeySet();     // created and acknowledged, not destroyed
        Set<String> maybe = java.util.concurrent.ConcurrentHashMap.newKeySet();     // in flight at the kill
        Set<String> destroyed = java.util.concurrent.ConcurrentHashMap.newKeySet(); // destroy acknowledged
        SplittableRandom rnd = new SplittableRandom(5);
        try (IoEngineProcess engine = IoEngineProcess.fromClasspath("node-k", List.of(disk), dir.resolve("engine.log"), List.of()).start()) {
            engine.api().pools().createPool(CreatePoolRequest.newBuilder().setName("p1").addDisks(disk).setClusterSize(MiB).build());
            for (int kill = 1; kill <= 5; kill++) {
                AtomicBoolean stop = new AtomicBoolean();
                Thread client = new Thread(() -> {
                    while (!stop.get()) {
                        try {
                            if (acked.size() > 20 && rnd.nextInt(3) == 0) {
                                String victim = acked.iterator().next();
                                maybe.add(victim);
                                engine.api().replicas().destroyReplica(DestroyReplicaRequest.newBuilder().setUuid(victim).build());
                                acked.remove(victim);
                                maybe.remove(victim);
                                destroyed.add(victim);
                            } else {
                                String id = UUID.randomUUID().toString();
                                maybe.add(id);
                                engine.api().replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(id).setPool("p1")
                                        .setSize((1 + rnd.nextInt(4)) * MiB).setThin(rnd.nextBoolean()).build());
                                maybe.remove(id);
                                acked.add(id);
                            }
                        } catch (StatusRuntimeException e) {
                            return; // the engine died under us: what was in flight stays "maybe"
                        }
                    }
                });
                client.start();
                long before = acked.size() + destroyed.size();
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                        .until(() -> acked.size() + destroyed.size() >= before + 5 + rnd.nextInt(10));
                engine.kill9();
                stop.set(true);
                client.join(30_000);
                engine.start(); // imports the pool found on its configured disk

                Set<String> present = engine.api().replicas().listReplicas(ListReplicasRequest.getDefaultInstance()).getReplicasList()
                        .stream().map(Replica::getUuid).collect(Collectors.toSet());
                Set<String> mustBeBack = new HashSet<>(acked);
                mustBeBack.removeAll(maybe); // a destroy in flight at the kill may or may not have committed
                assertThat(present).as("after kill %d: every acknowledged replica is back", kill).containsAll(mustBeBack);
                assertThat(present.stream().filter(destroyed::contains)).as("after kill %d: no acknowledged destroy is undone", kill).isEmpty();
                assertThat(present).as("after kill %d: nothing that was never requested", kill).isSubsetOf(union(acked, maybe));
                // Settle the in-flight ones to what the engine says, so the next round starts exact.
                for (String m : new HashSet<>(maybe)) {
                    if (present.contains(m)) {
                        acked.add(m);
                        destroyed.remove(m);
                    } else {
                        acked.remove(m);
                    }
                }
                maybe.clear();
            }
            assertThat(acked.size() + destroyed.size()).isGreaterThan(25);
        }
    }

    @Test
    void idleEngineWithImportedPoolsUsesUnderTwoPercentOfACoreAndExportsMetrics() throws Exception {
        String d1 = "uring://" + dir.resolve("a.img") + "?size_mb=64";
        String d2 = "uring://" + dir.resolve("b.img") + "?size_mb=64";
        try (IoEngineProcess engine = IoEngineProcess.fromClasspath("node-i", List.of(d1, d2), dir.resolve("engine.log"), List.of()).start()) {
            engine.api().pools().createPool(CreatePoolRequest.newBuilder().setName("pa").addDisks(d1).build());
            engine.api().pools().createPool(CreatePoolRequest.newBuilder().setName("pb").addDisks(d2).build());
            engine.api().replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(UUID.randomUUID().toString()).setPool("pa").setSize(8 * MiB).build());
            engine.kill9();
            engine.start(); // both pools imported at start, the io_uring poller running
            assertThat(engine.api().pools().listPools(ListPoolsRequest.getDefaultInstance()).getPoolsCount()).isEqualTo(2);

            // Let start-up work settle (JIT, first scrapes), then measure a quiet window.
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).pollInterval(java.time.Duration.ofSeconds(2))
                    .until(new java.util.concurrent.Callable<Boolean>() {
                        long last = engine.cpuTicks();

                        @Override
                        public Boolean call() throws Exception {
                            long now = engine.cpuTicks();
                            boolean quiet = now - last <= 2;
                            last = now;
                            return quiet;
                        }
                    });
            long t0 = System.nanoTime();
            long c0 = engine.cpuTicks();
            // 20 s: the count is in 10 ms ticks and a C1 compilation or a metrics pass lands in any window; over 10 s one
            // of those moved an engine idling at 1.2 % to 2.19 % (clean-clone CI of 064791c), over 20 s it weighs half.
            org.awaitility.Awaitility.await().pollDelay(java.time.Duration.ofSeconds(20)).atMost(java.time.Duration.ofSeconds(40)).until(() -> true);
            double seconds = (System.nanoTime() - t0) / 1e9;
            double coreFraction = (engine.cpuTicks() - c0) / 100.0 / seconds; // USER_HZ = 100
            System.out.printf("idle io-engine CPU: %.2f%% of one core over %.1f s%n", coreFraction * 100, seconds);
            assertThat(coreFraction).as("idle CPU (fraction of one core)").isLessThan(0.02);

            String metrics = engine.http("/actuator/prometheus");
            assertThat(metrics).contains("javastor_pool_capacity_bytes{pool=\"pa\"}").contains("javastor_pool_used_bytes{pool=\"pb\"}")
                    .contains("javastor_replica_io_latency_seconds_count");
        }
    }

    @Test
    void dataWrittenOverNvmeTcpSurvivesKillNineAndRestart() throws Exception {
        String disk = "uring://" + dir.resolve("pool.img") + "?size_mb=128";
        String host = "nqn.2019-05.io.javastor:node-name:test-host";
        int nvmfPort = FreePorts.next();
        byte[] expect = new byte[16 << 20];
        new SplittableRandom(11).nextBytes(expect);
        try (IoEngineProcess engine = IoEngineProcess.fromClasspath("node-d", List.of(disk), dir.resolve("engine.log"),
                List.of("--javastor.io-engine.nvmf.port=" + nvmfPort)).start()) {
            engine.api().pools().createPool(CreatePoolRequest.newBuilder().setName("p1").addDisks(disk).build());
            String id = UUID.randomUUID().toString();
            engine.api().replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(id).setPool("p1").setSize(expect.length).setThin(true).build());
            io.javastor.api.ioengine.v1.ShareReplicaRequest share = io.javastor.api.ioengine.v1.ShareReplicaRequest.newBuilder().setUuid(id)
                    .setProtocol(io.javastor.api.ioengine.v1.ShareProtocol.SHARE_PROTOCOL_NVMF).addAllowedHosts(host).build();
            String uri = engine.api().replicas().shareReplica(share).getUri();
            assertThat(uri).isEqualTo("nvmf://127.0.0.1:" + nvmfPort + "/nqn.2019-05.io.javastor:" + id);

            try (io.javastor.ioengine.nvmf.host.NvmfBlockDevice dev = io.javastor.ioengine.nvmf.host.NvmfBlockDevice.connect(uri,
                    io.javastor.ioengine.nvmf.host.NvmfHostOptions.defaults(host))) {
                java.nio.ByteBuffer b = io.javastor.ioengine.device.DmaBuffers.allocate(1 << 20);
                for (int off = 0; off < expect.length; off += 1 << 20) {
                    b.clear().put(expect, off, 1 << 20).flip();
                    dev.write(off, b).join();
                }
                dev.flush().join(); // acknowledged durable: it must survive what follows
            }
            engine.kill9();
            engine.start();
            uri = engine.api().replicas().shareReplica(share).getUri(); // shares are not persistent: the agent shares again
            try (io.javastor.ioengine.nvmf.host.NvmfBlockDevice dev = io.javastor.ioengine.nvmf.host.NvmfBlockDevice.connect(uri,
                    io.javastor.ioengine.nvmf.host.NvmfHostOptions.defaults(host))) {
                byte[] got = new byte[expect.length];
                java.nio.ByteBuffer b = io.javastor.ioengine.device.DmaBuffers.allocate(1 << 20);
                for (int off = 0; off < got.length; off += 1 << 20) {
                    b.clear();
                    dev.read(off, b).join();
                    b.get(0, got, off, 1 << 20);
                }
                assertThat(java.util.Arrays.equals(got, expect)).as("16 MiB read back after kill -9 and restart equals what was written").isTrue();
            }
        }
    }

    @Test
    void refusesToStartWithAClearMessageWhenTheNativeEngineCannotLoad() throws Exception {
        Path bogus = Files.writeString(dir.resolve("libbogus.so"), "not an ELF file");
        Path log = dir.resolve("engine.log");
        List<String> args = List.of("--spring.grpc.server.port=" + FreePorts.next(), "--server.port=" + FreePorts.next());
        // Point the loader at a file that is not a shared library, as on a machine without a usable build.
        List<String> cmd = JavaProcess.command(JavaProcess.Program.mainClass("io.javastor.ioengine.IoEngineApplication"),
                List.of("-Xmx512m", "-Djavastor.native.lib=" + bogus), args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).as("the engine exits instead of running").isTrue();
        assertThat(p.exitValue()).isNotZero();
        assertThat(Files.readString(log)).contains("the native io_uring library (libjavastor_uring.so) cannot be loaded");
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> u = new HashSet<>(a);
        u.addAll(b);
        return u;
    }

    private static void expect(Status.Code code, String messagePart, Executable call) {
        assertThatThrownBy(call::execute).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(messagePart);
        });
    }
}
