package io.javastor.e2e.torture;

import io.javastor.testsupport.JavaProcess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.GetHostSecretsRequest;
import io.javastor.api.core.v1.GetVolumeRequest;
import io.javastor.api.core.v1.HostSecrets;
import io.javastor.api.core.v1.PublishVolumeRequest;
import io.javastor.api.core.v1.Replica;
import io.javastor.api.core.v1.UnpublishVolumeRequest;
import io.javastor.api.core.v1.Volume;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.core.v1.VolumeStatus;
import io.javastor.api.ioengine.v1.ChildState;
import io.javastor.api.ioengine.v1.ListNexusRequest;
import io.javastor.api.ioengine.v1.Nexus;
import io.javastor.api.ioengine.v1.NexusState;
import io.javastor.api.ioengine.v1.ShareProtocol;
import io.javastor.api.ioengine.v1.ShareReplicaRequest;
import io.javastor.api.ioengine.v1.UnshareReplicaRequest;
import io.javastor.testsupport.CoreAgentProcess;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.testsupport.IoEngineProcess;
import io.javastor.testsupport.StorageNodes;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.ioengine.nvmf.auth.DhchapKeys;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;

/**
 * Crash torture with an acknowledged-write checker (issue 13). Real etcd, a core agent and three io-engines, each
 * its own process; a thin 3-replica volume published over NVMe/TCP for one host NQN; the io-engine's own NVMe/TCP host
 * writes blocks stamped with their offset and a sequence number ({@link BlockStamp}): plain writes, FUA writes and
 * flushes, a few at a time. In every cycle one crash, chosen at random, hits in the middle of that workload: kill -9
 * of a replica's io-engine, of the nexus's own io-engine (the agent re-creates the target), of the core agent, or of
 * etcd; the process is started again at once (same ports, same disks), the self-heal reconcilers bring the volume
 * back to Online with three Online children, and the whole volume is read back (twice: reads go round the children)
 * and judged by the {@link DurabilityModel}. At the end the volume is unpublished and each replica is read directly
 * (shared over NVMe-oF by its io-engine) and compared block for block.
 *
 * <p>System properties: {@code javastor.torture.seed} (printed; set it to replay the same schedule and op mix),
 * {@code javastor.torture.cycles} (12), {@code javastor.torture.kinds} (replica,nexus,agent,etcd),
 * {@code javastor.torture.ops} (ops per cycle, 240), {@code javastor.torture.heartbeatTimeout} (30s: longer than an
 * io-engine restart, so a restarted node keeps its replica and the nexus must take it back; 3s: the node is declared
 * Offline first and its replica is replaced), {@code javastor.torture.healDeadlineSeconds} (240).
 * {@code bench/run torture CYCLES} runs it long and reads the {@code torture_cycles=...} line it prints.
 */
class CrashTortureTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    enum CrashKind {
        REPLICA("replica"), NEXUS("nexus"), AGENT("agent"), ETCD("etcd");

        final String key;

        CrashKind(String key) {
            this.key = key;
        }

        static CrashKind of(String key) {
            return Arrays.stream(values()).filter(k -> k.key.equals(key.trim())).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("javastor.torture.kinds: unknown crash kind '" + key
                            + "' (known: replica, nexus, agent, etcd)"));
        }
    }

    private static final String HOST_NQN = "nqn.2019-05.io.javastor:torture-host";
    private static final int BLOCK = BlockStamp.BLOCK;
    private static final long VOLUME_BYTES = 16L << 20;
    /** Blocks the workload writes (the first 4 MiB); the verification reads the whole volume (the rest must stay zero). */
    private static final int WORKING_BLOCKS = 1024;
    private static final int QUEUE_DEPTH = 8;
    private static final int MAX_RUN = 4;
    private static final int READ_CHUNK = 64 << 10;
    private static final Duration OP_DEADLINE = Duration.ofSeconds(150);
    private static final Duration HEAL_DEADLINE = Duration.ofSeconds(Long.getLong("javastor.torture.healDeadlineSeconds", 240));
    private static final List<String> NODES = List.of("node-1", "node-2", "node-3");

    private static Path dir;
    private static CoreAgentProcess agent;
    private static ManagedChannel agentChannel;
    private static StorageNodes storage;
    private static final Map<String, IoEngineProcess> engines = new LinkedHashMap<>();
    private static NvmfBlockDevice device;
    private static boolean passedAll;

    private final DurabilityModel model = new DurabilityModel();
    private final List<DurabilityModel.Problem> problems = new ArrayList<>();
    private final List<Double> healSeconds = new ArrayList<>();
    /** Blocks whose write failed or timed out and whose command may still be somewhere: not written again. */
    private final Set<Long> quarantined = ConcurrentHashMap.newKeySet();
    private final Instant0 t0 = new Instant0();
    private String volumeUri;
    private DhchapKeys hostKeys;
    private int cyclesDone;
    private final int[] kindCount = new int[CrashKind.values().length];
    private boolean summarized;
    /** Time spent in the completed cycles. */
    private long cyclesNanos;

    /** The key=value lines bench/run torture reads (printed on a failure too, with the cycles completed). */
    private void summary(long seed, String replicaMismatches) {
        summarized = true;
        long lost = problems.stream().filter(p -> p.kind() == DurabilityModel.Problem.Kind.LOST).count();
        long corrupt = problems.size() - lost;
        List<Double> sorted = healSeconds.stream().sorted().toList();
        System.out.printf("torture_cycles=%d acknowledged_lost=%d corrupt=%d heal_p50_s=%.1f heal_max_s=%.1f%n", cyclesDone, lost, corrupt,
                sorted.isEmpty() ? 0 : sorted.get((sorted.size() - 1) / 2), sorted.isEmpty() ? 0 : sorted.get(sorted.size() - 1));
        double meanCycle = cyclesDone == 0 ? 0 : cyclesNanos / 1e9 / cyclesDone;
        System.out.printf("torture_seed=%d replica_mismatch_blocks=%s durable_blocks=%d cycle_mean_s=%.1f crashes=%s%n", seed,
                replicaMismatches, model.durableBlocks(), meanCycle, Arrays.stream(CrashKind.values()).map(k -> k.key + ":" + kindCount[k.ordinal()])
                        .collect(Collectors.joining(",")));
    }

    private record Instant0(long nanos) {
        Instant0() {
            this(System.nanoTime());
        }

        String now() {
            return String.format("+%6.1f s", (System.nanoTime() - nanos) / 1e9);
        }
    }

    private void log(String fmt, Object... args) {
        System.out.println("TORTURE " + t0.now() + "  " + String.format(fmt, args));
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (device != null) {
            device.close();
        }
        if (storage != null) {
            storage.close();
        }
        if (agentChannel != null) {
            agentChannel.shutdownNow();
        }
        if (agent != null) {
            agent.close();
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                // the pools' disks always; the logs only after a pass (after a failure they stay for a look)
                for (Path f : files.sorted(java.util.Comparator.reverseOrder())
                        .filter(f -> passedAll || f.getFileName().toString().endsWith(".img")).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    @Test
    void acknowledgedWritesSurviveRandomCrashesOfEveryPartAndReplicasEndIdentical() throws Exception {
        long seed = Long.getLong("javastor.torture.seed", System.nanoTime() & 0xffffffffL);
        int cycles = Integer.getInteger("javastor.torture.cycles", 12);
        int opsPerCycle = Integer.getInteger("javastor.torture.ops", 240);
        List<CrashKind> kinds = Arrays.stream(System.getProperty("javastor.torture.kinds", "replica,nexus,agent,etcd").split(","))
                .filter(s -> !s.isBlank()).map(CrashKind::of).distinct().toList();
        assertThat(kinds).as("javastor.torture.kinds").isNotEmpty();
        SplittableRandom rnd = new SplittableRandom(seed);
        List<CrashKind> schedule = schedule(kinds, cycles, rnd);
        log("seed=%d (replay: -Djavastor.torture.seed=%d) cycles=%d ops/cycle=%d kinds=%s schedule=%s", seed, seed, cycles,
                opsPerCycle, kinds, schedule);

        JavaProcess.execJar(JavaProcess.IO_ENGINE_JAR); // skip early, saying why, when the jars were not built
        CoreAgentProcess.jar();
        // A fresh directory per run (pool disks left by an interrupted run would be imported with their replicas), in
        // the temporary folder: the only place the test io-engines' disk policy lets pools live.
        dir = Files.createTempDirectory("javastor-torture-" + seed + "-");
        log("logs and pool disks in %s", dir);
        boolean passed = false;
        try {
            startCluster();
            String uuid = createAndPublishVolume();
            device = connect();
            for (int cycle = 1; cycle <= cycles; cycle++) {
                CrashKind kind = schedule.get(cycle - 1);
                long start = System.nanoTime();
                runCycle(cycle, cycles, kind, uuid, opsPerCycle, rnd);
                cyclesNanos += System.nanoTime() - start;
                kindCount[kind.ordinal()]++;
                cyclesDone++;
            }
            // The end: everything acknowledged made durable, one last check through the volume, then every replica read
            // directly and compared block for block.
            long mark = model.flushSent();
            retrying("final flush", () -> device.flush().get(OP_DEADLINE.toSeconds(), TimeUnit.SECONDS));
            model.flushCompleted(mark);
            verifyVolume("final");
            int replicaMismatches = compareReplicas(uuid);

            summary(seed, Integer.toString(replicaMismatches));
            assertThat(problems).as("blocks the durability model does not allow (seed %d)", seed).isEmpty();
            assertThat(replicaMismatches).as("blocks that differ between the replicas at the end (seed %d)", seed).isZero();
            if (cycles >= 2 * kinds.size()) {
                for (CrashKind k : kinds) {
                    assertThat(kindCount[k.ordinal()]).as("cycles that crashed the %s", k.key).isGreaterThanOrEqualTo(2);
                }
            }
            passed = true;
            passedAll = true;
        } finally {
            if (!passed) {
                if (!summarized) {
                    summary(seed, "unknown (not reached)");
                }
                System.out.println("==== crash torture FAILED (seed " + seed + ") after " + cyclesDone + " complete cycle(s); logs in "
                        + dir + " ====");
                problems.stream().limit(40).forEach(p -> System.out.println("  " + p));
                printLogTails();
            }
        }
    }

    /** Each enabled kind at least twice when there are cycles enough, the rest drawn at random; then shuffled. */
    static List<CrashKind> schedule(List<CrashKind> kinds, int cycles, SplittableRandom rnd) {
        List<CrashKind> out = new ArrayList<>();
        if (cycles >= 2 * kinds.size()) {
            for (CrashKind k : kinds) {
                out.add(k);
                out.add(k);
            }
        }
        while (out.size() < cycles) {
            out.add(kinds.get(rnd.nextInt(kinds.size())));
        }
        Collections.shuffle(out, new java.util.Random(rnd.nextLong()));
        return out;
    }

    // ------------------------------------------------------------------------------------------------ the cluster

    private void startCluster() throws Exception {
        String heartbeat = System.getProperty("javastor.torture.heartbeatTimeout", "30s");
        agent = new CoreAgentProcess(etcd.endpoint(), "torture", dir, List.of(
                "--javastor.core.nodes.heartbeat-timeout=" + heartbeat,
                "--javastor.core.nodes.state-poll-interval=500ms")).start();
        agentChannel = agent.apiChannel();
        storage = StorageNodes.start(NODES, agent.address(), agentChannel, dir, 64, Map.of());
        storage.engines().forEach(e -> engines.put(e.name(), e));
        log("cluster up: etcd %s, core agent %s (pid %d), io-engines %s", etcd.endpoint(), agent.address(), agent.pid(), NODES);
    }

    private static VolumeServiceGrpc.VolumeServiceBlockingStub volumes() {
        return VolumeServiceGrpc.newBlockingStub(agentChannel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private String createAndPublishVolume() throws InterruptedException {
        String uuid = UUID.randomUUID().toString();
        Volume created = volumes().createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(VOLUME_BYTES).setReplicaCount(3)
                .setThin(true).build());
        assertThat(created.getReplicasList().stream().map(Replica::getNodeId)).as("replica nodes").containsExactlyInAnyOrderElementsOf(NODES);
        Volume published = volumes().publishVolume(PublishVolumeRequest.newBuilder().setUuid(uuid).setPreferredNodeId(NODES.get(0))
                .addAllowedHosts(HOST_NQN).build());
        volumeUri = published.getTarget().getUri();
        hostKeys = hostSecrets(uuid);
        assertThat(volumeUri).as("target URI").contains("nqn.2019-05.io.javastor:" + uuid);
        log("volume %s: thin, 3 replicas, %d MiB, published on %s at %s for %s", uuid, VOLUME_BYTES >> 20,
                published.getTarget().getNodeId(), volumeUri, HOST_NQN);
        return uuid;
    }

    /** The host's DH-HMAC-CHAP secrets for the volume, asked for as the CSI node plugin does (the target requires them). */
    private static DhchapKeys hostSecrets(String uuid) throws InterruptedException {
        ManagedChannel asCsiNode = agent.channelAs(ClusterPeer.CSI_NODE);
        try {
            HostSecrets s = VolumeServiceGrpc.newBlockingStub(asCsiNode).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .getHostSecrets(GetHostSecretsRequest.newBuilder().setUuid(uuid).setHostNqn(HOST_NQN).build());
            return DhchapKeys.parse(s.getHostSecret(), s.getControllerSecret());
        } finally {
            asCsiNode.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private NvmfBlockDevice connect() {
        return NvmfBlockDevice.connect(volumeUri,
                NvmfHostOptions.defaults(HOST_NQN).withReconnectDeadline(Duration.ofSeconds(120)).withDhchap(hostKeys));
    }

    // ------------------------------------------------------------------------------------------------ one cycle

    private void runCycle(int cycle, int cycles, CrashKind kind, String uuid, int ops, SplittableRandom rnd) throws Exception {
        quarantined.clear();
        int crashAt = ops / 4 + rnd.nextInt(ops / 2);
        Volume before = volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build());
        String targetNode = before.getTarget().getNodeId();
        List<String> others = NODES.stream().filter(n -> !n.equals(targetNode)).toList();
        String victimNode = switch (kind) {
            case NEXUS -> targetNode;
            case REPLICA -> others.get(rnd.nextInt(others.size()));
            default -> null;
        };
        Semaphore slots = new Semaphore(QUEUE_DEPTH);
        Set<Long> busy = ConcurrentHashMap.newKeySet();
        Map<CompletableFuture<Void>, long[]> inFlight = new ConcurrentHashMap<>();
        AtomicInteger failed = new AtomicInteger();
        AtomicReference<Throwable> firstFailure = new AtomicReference<>();
        Map<String, Integer> counts = new java.util.TreeMap<>();
        CompletableFuture<Void> crash = null;
        long crashNanos = 0;
        for (int i = 0; i < ops; i++) {
            if (i == crashAt) {
                crashNanos = System.nanoTime();
                crash = CompletableFuture.runAsync(() -> crash(kind, victimNode));
            }
            if (!slots.tryAcquire(OP_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
                throw new AssertionError("cycle " + cycle + ": no I/O slot freed in " + OP_DEADLINE.toSeconds() + " s (" + inFlight.size()
                        + " commands in flight after the " + kind.key + " crash)");
            }
            int r = rnd.nextInt(100);
            if (r < 10) {
                counts.merge("flush", 1, Integer::sum);
                long mark = model.flushSent();
                CompletableFuture<Void> f = device.flush();
                inFlight.put(f, new long[0]);
                f.whenComplete((v, e) -> {
                    if (e == null) {
                        model.flushCompleted(mark);
                    } else {
                        failed.incrementAndGet();
                        firstFailure.compareAndSet(null, e);
                    }
                    inFlight.remove(f);
                    slots.release();
                });
                continue;
            }
            boolean fua = r < 35;
            int len = 1 + rnd.nextInt(MAX_RUN);
            int start = rnd.nextInt(WORKING_BLOCKS - len + 1);
            long[] blocks = freeRun(start, len, busy);
            if (blocks == null) {
                slots.release();
                counts.merge("skipped", 1, Integer::sum);
                continue;
            }
            counts.merge(fua ? "fua" : "write", 1, Integer::sum);
            ByteBuffer buf = DmaBuffers.allocate(blocks.length * BLOCK);
            long[] seqs = new long[blocks.length];
            for (int k = 0; k < blocks.length; k++) {
                seqs[k] = model.sent(blocks[k] * BLOCK);
                BlockStamp.fill(buf, k * BLOCK, blocks[k] * BLOCK, seqs[k]);
            }
            long offset = blocks[0] * BLOCK;
            CompletableFuture<Void> f = fua ? device.writeFua(offset, buf) : device.write(offset, buf);
            inFlight.put(f, blocks);
            f.whenComplete((v, e) -> {
                if (e == null) {
                    for (int k = 0; k < blocks.length; k++) {
                        model.completed(blocks[k] * BLOCK, seqs[k], fua);
                    }
                } else {
                    failed.incrementAndGet();
                    firstFailure.compareAndSet(null, e);
                    for (long b : blocks) {
                        quarantined.add(b);
                    }
                }
                for (long b : blocks) {
                    busy.remove(b);
                }
                inFlight.remove(f);
                slots.release();
            });
        }
        // Every command answered (or failed) before the verdict: one still queued in the host could land later.
        try {
            await("cycle " + cycle + ": the " + inFlight.size() + " commands in flight answered").atMost(OP_DEADLINE)
                    .pollInterval(Duration.ofMillis(50)).until(inFlight::isEmpty);
            crash.get(HEAL_DEADLINE.toSeconds(), TimeUnit.SECONDS);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(e.getMessage() + " (" + inFlight.size() + " still in flight after the " + kind.key + " crash)", e);
        }
        double heal = awaitHealed(uuid, cycle, kind, crashNanos);
        healSeconds.add(heal);
        int before1 = problems.size();
        verifyVolume("cycle " + cycle);
        log("cycle %d/%d %-7s %s crash after %d ops; ops %s, %d failed%s; healed in %.1f s; %s", cycle, cycles, kind.key,
                victimNode == null ? "" : "(" + victimNode + ")", crashAt, counts, failed.get(),
                firstFailure.get() == null ? "" : " (first: " + firstFailure.get().toString().replaceAll("\\s+", " ") + ")", heal,
                problems.size() == before1 ? "volume checks out" : (problems.size() - before1) + " BAD BLOCKS");
    }

    /** {@code len} blocks from {@code start} (or the next free run after it) that are neither in flight nor quarantined, now marked busy. */
    private long[] freeRun(int start, int len, Set<Long> busy) {
        for (int tries = 0; tries < WORKING_BLOCKS; tries++) {
            int s = (start + tries) % (WORKING_BLOCKS - len + 1);
            long[] run = new long[len];
            boolean ok = true;
            for (int k = 0; k < len && ok; k++) {
                run[k] = s + k;
                ok = !busy.contains(run[k]) && !quarantined.contains(run[k]);
            }
            if (ok) {
                for (long b : run) {
                    busy.add(b);
                }
                return run;
            }
        }
        return null;
    }

    private void crash(CrashKind kind, String victimNode) {
        try {
            switch (kind) {
                case REPLICA, NEXUS -> {
                    IoEngineProcess e = engines.get(victimNode);
                    e.kill9();
                    e.start();
                }
                case AGENT -> {
                    agent.kill9();
                    agent.start();
                }
                case ETCD -> {
                    etcd.kill9();
                    etcd.restart();
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("crash " + kind.key + ": " + e, e);
        }
    }

    /** Seconds from the crash until the volume is Online with its target Online and three Online children. */
    private double awaitHealed(String uuid, int cycle, CrashKind kind, long crashNanos) {
        AtomicReference<String> last = new AtomicReference<>("(no answer yet)");
        try {
            await("cycle " + cycle + ": volume healed after the " + kind.key + " crash").atMost(HEAL_DEADLINE)
                    .pollInterval(Duration.ofMillis(250)).until(() -> healed(uuid, last));
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("cycle " + cycle + ": the volume did not heal within " + HEAL_DEADLINE.toSeconds() + " s after the "
                    + kind.key + " crash; last seen: " + last.get(), e);
        }
        return (System.nanoTime() - crashNanos) / 1e9;
    }

    private static boolean healed(String uuid, AtomicReference<String> last) {
        try {
            Volume v = volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build());
            IoEngineProcess target = engines.get(v.getTarget().getNodeId());
            List<Nexus> nexus = target == null ? List.of()
                    : target.api().nexuses().withDeadlineAfter(10, TimeUnit.SECONDS).listNexus(ListNexusRequest.newBuilder().setUuid(uuid).build())
                            .getNexusListList();
            last.set("volume " + v.getStatus().name() + " target " + v.getTarget().getNodeId() + " nexus " + (nexus.isEmpty() ? "none"
                    : nexus.get(0).getState().name() + " " + nexus.get(0).getChildrenList().stream()
                            .map(c -> c.getUri().replaceAll("^.*:", "…") + "=" + c.getState().name().replace("CHILD_STATE_", ""))
                            .toList()));
            return v.getStatus() == VolumeStatus.VOLUME_STATUS_ONLINE && nexus.size() == 1
                    && nexus.get(0).getState() == NexusState.NEXUS_STATE_ONLINE && nexus.get(0).getChildrenCount() == 3
                    && nexus.get(0).getChildrenList().stream().allMatch(c -> c.getState() == ChildState.CHILD_STATE_ONLINE);
        } catch (StatusRuntimeException e) {
            last.set(e.getStatus().getCode() + ": " + e.getStatus().getDescription());
            return false;
        }
    }

    // ------------------------------------------------------------------------------------------------ checking

    /** Reads the whole volume twice (the nexus spreads reads over its children) and judges every block. */
    private void verifyVolume(String what) throws Exception {
        Set<Long> reported = new HashSet<>();
        for (int round = 0; round < 2; round++) {
            for (long off = 0; off < VOLUME_BYTES; off += READ_CHUNK) {
                ByteBuffer buf = readThroughVolume(off);
                judge(buf, off, what + " read " + (round + 1), reported);
            }
        }
    }

    private void judge(ByteBuffer buf, long off, String what, Set<Long> reported) {
        for (int k = 0; k < READ_CHUNK / BLOCK; k++) {
            long blockOffset = off + (long) k * BLOCK;
            DurabilityModel.Problem p = model.check(blockOffset, BlockStamp.read(buf, k * BLOCK, blockOffset));
            if (p != null && reported.add(blockOffset)) {
                problems.add(p);
                if (problems.size() <= 40) {
                    log("%s: %s", what, p);
                }
            }
        }
    }

    /** A chunk of the volume; after a crash the host may have given up reconnecting: then a new connection. */
    private ByteBuffer readThroughVolume(long off) {
        ByteBuffer buf = DmaBuffers.allocate(READ_CHUNK);
        retrying("read at " + off, () -> device.read(off, buf).get(60, TimeUnit.SECONDS));
        return buf;
    }

    interface Step {
        void run() throws Exception;
    }

    private void retrying(String what, Step step) {
        try {
            step.run(); // the common case: no waiting at all
            return;
        } catch (Exception first) {
            log("%s failed (%s): trying again for up to 120 s", what, first.toString().replaceAll("\\s+", " "));
        }
        AtomicReference<Exception> last = new AtomicReference<>();
        AtomicInteger failures = new AtomicInteger();
        try {
            await(what).atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> {
                try {
                    step.run();
                    return true;
                } catch (Exception e) {
                    last.set(e);
                    if (failures.incrementAndGet() % 3 == 0) {
                        // the host gives up after its reconnect deadline: a new connection to the same address
                        log("%s failed %d times (%s): connecting again", what, failures.get(), e.toString().replaceAll("\\s+", " "));
                        device.close();
                        device = connect();
                    }
                    return false;
                }
            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(what + " through the volume failed for 120 s after it healed: " + last.get(), e);
        }
    }

    /** Unpublishes the volume, shares each replica to this host and reads them all: the number of blocks that differ. */
    private int compareReplicas(String uuid) throws Exception {
        device.close();
        device = null;
        Volume v = volumes().unpublishVolume(UnpublishVolumeRequest.newBuilder().setUuid(uuid).build());
        Map<String, byte[]> images = new LinkedHashMap<>();
        for (Replica r : v.getReplicasList()) {
            IoEngineProcess engine = engines.get(r.getNodeId());
            var api = engine.api();
            String uri;
            try {
                uri = api.replicas().shareReplica(ShareReplicaRequest.newBuilder().setUuid(r.getUuid()).setProtocol(ShareProtocol.SHARE_PROTOCOL_NVMF)
                        .addAllowedHosts(HOST_NQN).build()).getUri();
            } catch (StatusRuntimeException e) {
                engine.api().replicas().unshareReplica(UnshareReplicaRequest.newBuilder().setUuid(r.getUuid()).build());
                uri = engine.api().replicas().shareReplica(ShareReplicaRequest.newBuilder().setUuid(r.getUuid())
                        .setProtocol(ShareProtocol.SHARE_PROTOCOL_NVMF).addAllowedHosts(HOST_NQN).build()).getUri();
            }
            byte[] image = new byte[(int) VOLUME_BYTES];
            try (NvmfBlockDevice rd = NvmfBlockDevice.connect(uri, NvmfHostOptions.defaults(HOST_NQN))) {
                Set<Long> reported = new HashSet<>();
                for (long off = 0; off < VOLUME_BYTES; off += READ_CHUNK) {
                    ByteBuffer buf = DmaBuffers.allocate(READ_CHUNK);
                    rd.read(off, buf).get(60, TimeUnit.SECONDS);
                    judge(buf, off, "replica " + r.getUuid() + " on " + r.getNodeId(), reported);
                    buf.get(0, image, (int) off, READ_CHUNK);
                }
            }
            engine.api().replicas().unshareReplica(UnshareReplicaRequest.newBuilder().setUuid(r.getUuid()).build());
            images.put(r.getNodeId() + "/" + r.getUuid(), image);
        }
        assertThat(images).as("replicas of the volume at the end").hasSize(3);
        List<String> names = new ArrayList<>(images.keySet());
        byte[] first = images.get(names.get(0));
        int differing = 0;
        for (int b = 0; b < VOLUME_BYTES / BLOCK; b++) {
            int from = b * BLOCK;
            boolean same = true;
            for (int i = 1; i < names.size() && same; i++) {
                same = Arrays.equals(first, from, from + BLOCK, images.get(names.get(i)), from, from + BLOCK);
            }
            if (!same) {
                if (++differing <= 20) {
                    int at = from;
                    log("replicas differ at offset %d: %s", (long) from, names.stream().map(n -> n + " has "
                            + BlockStamp.read(ByteBuffer.wrap(images.get(n)), at, at)).collect(Collectors.joining("; ")));
                }
            }
        }
        log("replicas %s read directly: %d of %d blocks differ", names, differing, VOLUME_BYTES / BLOCK);
        return differing;
    }

    private static void printLogTails() {
        if (dir == null) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList()) {
                List<String> lines = Files.readAllLines(f, StandardCharsets.ISO_8859_1);
                System.out.println("---- tail of " + f + " ----");
                lines.subList(Math.max(0, lines.size() - 25), lines.size()).forEach(l -> System.out.println("  " + l));
            }
        } catch (Exception e) {
            System.out.println("(log tails incomplete: " + e + ")");
        }
    }

}
