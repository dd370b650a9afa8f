package io.javastor.csi.vm;

import csi.v1.Csi.CapacityRange;
import csi.v1.Csi.NodeExpandVolumeRequest;
import csi.v1.Csi.NodeGetInfoRequest;
import csi.v1.Csi.NodeGetVolumeStatsRequest;
import csi.v1.Csi.NodeGetVolumeStatsResponse;
import csi.v1.Csi.NodePublishVolumeRequest;
import csi.v1.Csi.NodeStageVolumeRequest;
import csi.v1.Csi.NodeUnpublishVolumeRequest;
import csi.v1.Csi.NodeUnstageVolumeRequest;
import csi.v1.Csi.VolumeCapability;
import csi.v1.Csi.VolumeUsage;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.csi.support.Caps;
import io.javastor.csi.support.CsiClient;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.javastor.csi.support.GrpcAssertions.fails;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Runs INSIDE the Linux VM as root, beside the node plugin: drives it over its unix socket through real staging,
 * publishing, I/O, expansion and stats, and writes one PASS or FAIL line per scenario to result.txt in the shared
 * folder, which the host test asserts.
 * Args: socket share volumeAUri volumeA volumeBUri volumeB volumeAGrownBytes volumeBGrownBytes
 */
public final class GuestNodeDriver {
    private static final io.javastor.csi.node.NvmeCli SYSFS = new io.javastor.csi.node.NvmeCli();
    private final CsiClient csi;
    private final Path share;
    private final Path result;

    private GuestNodeDriver(CsiClient csi, Path share) {
        this.csi = csi;
        this.share = share;
        this.result = share.resolve("result.txt");
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        Path share = Path.of(args[1]);
        String aUri = args[2];
        String a = args[3];
        String bUri = args[4];
        String b = args[5];
        long aGrown = Long.parseLong(args[6]);
        long bGrown = Long.parseLong(args[7]);
        await("node plugin socket").atMost(Duration.ofMinutes(8)).pollInterval(Duration.ofMillis(500)).until(() -> Files.exists(socket));
        boolean allPassed;
        try (CsiClient csi = new CsiClient(socket, 240)) {
            await("node plugin answers").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                    .until(() -> csi.node().nodeGetInfo(NodeGetInfoRequest.getDefaultInstance()).getNodeId().equals("vm-node"));
            GuestNodeDriver d = new GuestNodeDriver(csi, share);
            allPassed = d.scenario("host-without-secret-refused-plugin-authenticates", () -> d.authentication(a, aUri))
                    & d.scenario("ext4-stage-publish-write-restage-read", () -> d.ext4(a, aUri))
                    & d.scenario("clone-from-snapshot-mounts-as-at-snapshot", () -> d.cloneFromSnapshot(a, aUri))
                    & d.scenario("raw-block-publish-write-read", () -> d.rawBlock(a, aUri))
                    & d.scenario("raw-block-grows-after-controller-expand", () -> d.rawBlockGrows(a, aUri, aGrown))
                    & d.scenario("ext4-expand-after-controller-expand-and-stats", () -> d.expand(b, bUri, bGrown))
                    & d.scenario("stats-abnormal-when-device-gone-then-cleanup", () -> d.deviceGone(b));
        }
        System.exit(allPassed ? 0 : 1);
    }

    interface Body {
        void run() throws Exception;
    }

    private boolean scenario(String name, Body body) throws IOException {
        long t0 = System.nanoTime();
        String line;
        boolean ok;
        try {
            body.run();
            line = "PASS " + name + " (" + (System.nanoTime() - t0) / 1_000_000 + " ms)";
            ok = true;
        } catch (Throwable t) { // recorded as the scenario's FAIL line, which the host test asserts against
            java.io.StringWriter sw = new java.io.StringWriter();
            t.printStackTrace(new java.io.PrintWriter(sw));
            System.out.println(sw);
            line = "FAIL " + name + ": " + t.toString().replace('\n', ' ');
            ok = false;
        }
        System.out.println(line);
        Files.writeString(result, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        return ok;
    }

    private void log(String s) {
        System.out.println("driver: " + s);
    }

    // ---- scenarios ----

    /**
     * The volume's target admits this node's host NQN only with its DH-HMAC-CHAP secret: nvme connect without it is
     * refused; the plugin, which gets the secrets from the core agent, connects, and the kernel holds them.
     */
    private void authentication(String vol, String uri) throws Exception {
        java.net.URI u = java.net.URI.create(uri);
        String nqn = u.getPath().substring(1);
        java.util.Set<String> controllersBefore = controllerNames();
        Process p = new ProcessBuilder("nvme", "connect", "-t", "tcp", "-a", u.getHost(), "-s", Integer.toString(u.getPort()), "-n", nqn,
                "--hostnqn=" + io.javastor.csi.node.NodeService.HOST_NQN_PREFIX + "vm-node", "--ctrl-loss-tmo=0").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).as("nvme connect without a secret ended").isTrue();
        log("nvme connect without a secret: exit " + p.exitValue() + ": " + out.strip());
        assertThat(p.exitValue()).as("nvme connect without the host's secret is refused: " + out).isNotZero();
        assertThat(subsystemPresent(vol)).as("no controller left by the refused connect").isFalse();
        // Nor one outside any subsystem, left reconnecting: it would retry with no key for minutes.
        assertThat(controllerNames()).as("the kernel's controllers after the refused connect").isEqualTo(controllersBefore);

        Path staging = Files.createDirectories(Path.of("/run/csi/staging-auth", vol));
        NodeStageVolumeRequest stage = NodeStageVolumeRequest.newBuilder().setVolumeId(vol).putPublishContext("uri", uri)
                .setStagingTargetPath(staging.toString()).setVolumeCapability(Caps.block()).putVolumeContext("ioTimeout", "30").build();
        csi.node().nodeStageVolume(stage);
        String controller = controllerOf(vol);
        // The kernel keeps the secrets it authenticated with (6.12: the controller's dhchap attributes; never printed).
        assertThat(Files.readString(Path.of("/sys/class/nvme", controller, "dhchap_secret")).strip()).as("host secret of " + controller)
                .startsWith("DHHC-1:");
        assertThat(Files.readString(Path.of("/sys/class/nvme", controller, "dhchap_ctrl_secret")).strip()).as("controller secret of " + controller)
                .startsWith("DHHC-1:");
        log("staged through an authenticated connection (" + controller + ")");
        csi.node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId(vol).setStagingTargetPath(staging.toString()).build());
        assertThat(subsystemPresent(vol)).isFalse();
    }

    private static java.util.Set<String> controllerNames() throws IOException {
        Path root = Path.of("/sys/class/nvme");
        if (!Files.isDirectory(root)) {
            return java.util.Set.of();
        }
        try (java.util.stream.Stream<Path> s = Files.list(root)) {
            return s.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
        }
    }

    private void ext4(String vol, String uri) throws Exception {
        Path staging = Files.createDirectories(Path.of("/run/csi/staging", vol));
        Path podDir = Files.createDirectories(Path.of("/run/csi/pods/pod-a/volumes"));
        Path target = podDir.resolve("data");
        VolumeCapability cap = Caps.mount("ext4");
        NodeStageVolumeRequest stage = NodeStageVolumeRequest.newBuilder().setVolumeId(vol).putPublishContext("uri", uri)
                .setStagingTargetPath(staging.toString()).setVolumeCapability(cap).putVolumeContext("ioTimeout", "30").build();
        csi.node().nodeStageVolume(stage);
        log("staged");
        csi.node().nodeStageVolume(stage); // idempotent
        assertThat(sh("blkid", "-o", "value", "-s", "TYPE", device(vol).toString()).strip()).isEqualTo("ext4");
        NodePublishVolumeRequest publish = NodePublishVolumeRequest.newBuilder().setVolumeId(vol).putPublishContext("uri", uri)
                .setStagingTargetPath(staging.toString()).setTargetPath(target.toString()).setVolumeCapability(cap).build();
        csi.node().nodePublishVolume(publish);
        csi.node().nodePublishVolume(publish); // idempotent
        Map<String, String> written = new LinkedHashMap<>();
        Random rnd = new Random(7);
        for (int i = 0; i < 3; i++) {
            byte[] data = new byte[256 * 1024 + i];
            rnd.nextBytes(data);
            Path f = target.resolve("file-" + i + ".bin");
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(data));
                ch.force(true);
            }
            written.put(f.getFileName().toString(), sha256(data));
        }
        log("wrote " + written.keySet());
        NodeGetVolumeStatsResponse stats = stats(vol, target);
        assertThat(stats.getVolumeCondition().getAbnormal()).as(stats.getVolumeCondition().getMessage()).isFalse();
        VolumeUsage bytes = usage(stats, VolumeUsage.Unit.BYTES);
        assertThat(bytes.getTotal()).isGreaterThan(64L << 20).isLessThanOrEqualTo(96L << 20);
        assertThat(bytes.getUsed()).isGreaterThanOrEqualTo(768L * 1024);
        assertThat(usage(stats, VolumeUsage.Unit.INODES).getUsed()).isGreaterThanOrEqualTo(3);

        NodeUnpublishVolumeRequest unpublish = NodeUnpublishVolumeRequest.newBuilder().setVolumeId(vol).setTargetPath(target.toString()).build();
        csi.node().nodeUnpublishVolume(unpublish);
        csi.node().nodeUnpublishVolume(unpublish); // idempotent
        assertThat(target).doesNotExist();
        NodeUnstageVolumeRequest unstage = NodeUnstageVolumeRequest.newBuilder().setVolumeId(vol).setStagingTargetPath(staging.toString()).build();
        csi.node().nodeUnstageVolume(unstage);
        csi.node().nodeUnstageVolume(unstage); // idempotent
        assertThat(subsystemPresent(vol)).as("disconnected after unstage").isFalse();
        log("unpublished and unstaged");

        csi.node().nodeStageVolume(stage);
        Path roTarget = podDir.resolve("data-ro");
        csi.node().nodePublishVolume(publish.toBuilder().setTargetPath(roTarget.toString()).setReadonly(true).build());
        for (Map.Entry<String, String> e : written.entrySet()) {
            assertThat(sha256(Files.readAllBytes(roTarget.resolve(e.getKey())))).as(e.getKey()).isEqualTo(e.getValue());
        }
        assertThatThrownBy(() -> Files.writeString(roTarget.resolve("nope.txt"), "x")).isInstanceOf(IOException.class)
                .hasMessageContaining("Read-only");
        log("read back after re-stage; read-only publish refuses writes");
        Path other = Files.createDirectories(Path.of("/run/csi/staging-other", vol));
        fails(Status.Code.FAILED_PRECONDITION, "never reformatted", () -> csi.node().nodeStageVolume(stage.toBuilder()
                .setStagingTargetPath(other.toString()).setVolumeCapability(Caps.mount("xfs")).build()));
        fails(Status.Code.ALREADY_EXISTS, "already published", () -> csi.node().nodePublishVolume(publish.toBuilder()
                .setTargetPath(roTarget.toString()).setReadonly(false).build()));
        csi.node().nodeUnpublishVolume(unpublish.toBuilder().setTargetPath(roTarget.toString()).build());
        csi.node().nodeUnstageVolume(unstage);
        assertThat(subsystemPresent(vol)).isFalse();
    }

    /**
     * Volume A's ext4 (written by the ext4 scenario) gets one more file and is synced; the host takes a CSI snapshot
     * of A while it is mounted and creates, places and publishes a volume restored from it, then answers with the
     * clone's id and URI. A then changes (a file rewritten, one added, one deleted); the clone, staged and mounted
     * by the plugin, shows the filesystem as it was at the snapshot: the old contents, nothing written after; and
     * writes to the clone leave A as it is.
     */
    private void cloneFromSnapshot(String vol, String uri) throws Exception {
        Path staging = Files.createDirectories(Path.of("/run/csi/staging", vol));
        Path target = Files.createDirectories(Path.of("/run/csi/pods/pod-s/volumes")).resolve("source");
        VolumeCapability cap = Caps.mount("ext4");
        csi.node().nodeStageVolume(NodeStageVolumeRequest.newBuilder().setVolumeId(vol).putPublishContext("uri", uri)
                .setStagingTargetPath(staging.toString()).setVolumeCapability(cap).putVolumeContext("ioTimeout", "30").build());
        csi.node().nodePublishVolume(NodePublishVolumeRequest.newBuilder().setVolumeId(vol).putPublishContext("uri", uri)
                .setStagingTargetPath(staging.toString()).setTargetPath(target.toString()).setVolumeCapability(cap).build());
        byte[] atSnapshot = new byte[512 * 1024];
        new Random(23).nextBytes(atSnapshot);
        Files.write(target.resolve("at-snapshot.bin"), atSnapshot);
        Map<String, String> before = fileHashes(target);
        sh("sync", "-f", target.resolve("at-snapshot.bin").toString());
        log("source before the snapshot: " + before.keySet());
        assertThat(before).containsKeys("file-0.bin", "file-1.bin", "file-2.bin", "at-snapshot.bin");

        // The host snapshots A now, with A mounted (crash-consistent: the journal replays on the clone's mount).
        Files.writeString(share.resolve("snapshot-" + vol + "-ready"), "ready");
        Path done = share.resolve("snapshot-" + vol + "-done");
        await("host snapshotted " + vol + " and published a clone").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(500))
                .until(() -> Files.exists(done));
        String[] answer = Files.readString(done).strip().split(" ");
        String clone = answer[0];
        String cloneUri = answer[1];
        log("clone " + clone + " at " + cloneUri);

        // A moves on: none of this may show in the clone.
        byte[] changed = new byte[atSnapshot.length];
        new Random(29).nextBytes(changed);
        Files.write(target.resolve("at-snapshot.bin"), changed);
        Files.writeString(target.resolve("after-snapshot.txt"), "written after the snapshot");
        Files.delete(target.resolve("file-0.bin"));
        sh("sync");

        Path cloneStaging = Files.createDirectories(Path.of("/run/csi/staging", clone));
        Path cloneTarget = Files.createDirectories(Path.of("/run/csi/pods/pod-s/volumes")).resolve("restored");
        csi.node().nodeStageVolume(NodeStageVolumeRequest.newBuilder().setVolumeId(clone).putPublishContext("uri", cloneUri)
                .setStagingTargetPath(cloneStaging.toString()).setVolumeCapability(cap).putVolumeContext("ioTimeout", "30").build());
        csi.node().nodePublishVolume(NodePublishVolumeRequest.newBuilder().setVolumeId(clone).putPublishContext("uri", cloneUri)
                .setStagingTargetPath(cloneStaging.toString()).setTargetPath(cloneTarget.toString()).setVolumeCapability(cap).build());
        Map<String, String> restored = fileHashes(cloneTarget);
        log("clone's files: " + restored.keySet());
        assertThat(restored).as("the clone's files are the source's at the snapshot, byte for byte").isEqualTo(before);
        assertThat(cloneTarget.resolve("after-snapshot.txt")).doesNotExist();

        // The clone is its own volume: writing it leaves the source as it is.
        Files.writeString(cloneTarget.resolve("clone-only.txt"), "written to the clone");
        sh("sync");
        assertThat(target.resolve("clone-only.txt")).doesNotExist();
        assertThat(sha256(Files.readAllBytes(target.resolve("at-snapshot.bin")))).isEqualTo(sha256(changed));

        csi.node().nodeUnpublishVolume(NodeUnpublishVolumeRequest.newBuilder().setVolumeId(clone).setTargetPath(cloneTarget.toString()).build());
        csi.node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId(clone).setStagingTargetPath(cloneStaging.toString()).build());
        csi.node().nodeUnpublishVolume(NodeUnpublishVolumeRequest.newBuilder().setVolumeId(vol).setTargetPath(target.toString()).build());
        csi.node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId(vol).setStagingTargetPath(staging.toString()).build());
        assertThat(subsystemPresent(clone)).isFalse();
        assertThat(subsystemPresent(vol)).isFalse();
    }

    /** SHA-256 of every regular file directly in {@code dir} (lost+found left out), by name. */
    private static Map<String, String> fileHashes(Path dir) throws Exception {
        Map<String, String> hashes = new java.util.TreeMap<>();
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f)) {
                    hashes.put(f.getFileName().toString(), sha256(Files.readAllBytes(f)));
                }
            }
        }
        return hashes;
    }

    private void rawBlock(String vol, String uri) throws Exception {
        Path staging = Files.createDirectories(Path.of("/run/csi/staging-block", vol));
        Path devDir = Files.createDirectories(Path.of("/run/csi/pods/pod-b/volumeDevices"));
        Path target = devDir.resolve("disk");
        VolumeCapability cap = Caps.block();
        NodeStageVolumeRequest stage = NodeStageVolumeRequest.newBuilder().setVolumeId(vol).putPublishContext("uri", uri)
                .setStagingTargetPath(staging.toString()).setVolumeCapability(cap).build();
        csi.node().nodeStageVolume(stage);
        csi.node().nodeStageVolume(stage);
        NodePublishVolumeRequest publish = NodePublishVolumeRequest.newBuilder().setVolumeId(vol).putPublishContext("uri", uri)
                .setStagingTargetPath(staging.toString()).setTargetPath(target.toString()).setVolumeCapability(cap).build();
        csi.node().nodePublishVolume(publish);
        csi.node().nodePublishVolume(publish);
        assertThat(sh("stat", "-c", "%F", target.toString()).strip()).isEqualTo("block special file");
        byte[] pattern = new byte[1 << 20];
        new Random(11).nextBytes(pattern);
        long offset = 8L << 20;
        try (FileChannel ch = FileChannel.open(target, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(pattern), offset);
            ch.force(true);
        }
        assertThat(read(target, offset, pattern.length)).as("read back through the published device").isEqualTo(pattern);
        sh("blockdev", "--flushbufs", device(vol).toString());
        assertThat(read(device(vol), offset, pattern.length)).as("same bytes on the NVMe namespace").isEqualTo(pattern);
        NodeGetVolumeStatsResponse stats = stats(vol, target);
        assertThat(usage(stats, VolumeUsage.Unit.BYTES).getTotal()).isEqualTo(96L << 20);
        csi.node().nodeUnpublishVolume(NodeUnpublishVolumeRequest.newBuilder().setVolumeId(vol).setTargetPath(target.toString()).build());
        assertThat(target).doesNotExist();
        csi.node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId(vol).setStagingTargetPath(staging.toString()).build());
        assertThat(subsystemPresent(vol)).isFalse();
    }

    /**
     * Asks the host to expand the volume through the controller and waits for its answer; then waits, without any
     * rescan of ours, until the kernel reports {@code grown} bytes for the namespace: the target's Namespace Attribute
     * Changed notice made it rescan. Returns the time that took.
     */
    private long hostExpandsAndKernelSeesIt(String vol, long grown) throws Exception {
        Files.writeString(share.resolve("resize-" + vol + "-ready"), "ready");
        await("host expanded " + vol).atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(500))
                .until(() -> Files.exists(share.resolve("resize-" + vol + "-done")));
        long t0 = System.nanoTime();
        Path sysSize = Path.of("/sys/block", device(vol).getFileName().toString(), "size");
        await("the kernel sees " + vol + " grown to " + grown + " bytes without a rescan").atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(100)).until(() -> Long.parseLong(Files.readString(sysSize).strip()) * 512 == grown);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        log(vol + ": " + sysSize + " shows " + grown + " bytes " + ms + " ms after the controller's expand (no reconnect, no rescan)");
        return ms;
    }

    private void rawBlockGrows(String vol, String uri, long grown) throws Exception {
        Path staging = Files.createDirectories(Path.of("/run/csi/staging-block", vol));
        Path target = Files.createDirectories(Path.of("/run/csi/pods/pod-d/volumeDevices")).resolve("disk");
        VolumeCapability cap = Caps.block();
        csi.node().nodeStageVolume(NodeStageVolumeRequest.newBuilder().setVolumeId(vol).putPublishContext("uri", uri)
                .setStagingTargetPath(staging.toString()).setVolumeCapability(cap).build());
        csi.node().nodePublishVolume(NodePublishVolumeRequest.newBuilder().setVolumeId(vol).putPublishContext("uri", uri)
                .setStagingTargetPath(staging.toString()).setTargetPath(target.toString()).setVolumeCapability(cap).build());
        long before = Long.parseLong(sh("blockdev", "--getsize64", target.toString()).strip());
        assertThat(before).isLessThan(grown);
        List<String> controllers = controllerIds(vol);
        hostExpandsAndKernelSeesIt(vol, grown);
        assertThat(Long.parseLong(sh("blockdev", "--getsize64", target.toString()).strip())).as("the published device node").isEqualTo(grown);
        assertThat(controllerIds(vol)).as("the same controllers: no reconnect").isEqualTo(controllers);
        // The grown range is usable: write its last MiB and read it back.
        byte[] pattern = new byte[1 << 20];
        new Random(13).nextBytes(pattern);
        try (FileChannel ch = FileChannel.open(target, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(pattern), grown - pattern.length);
            ch.force(true);
        }
        sh("blockdev", "--flushbufs", target.toString());
        assertThat(read(target, grown - pattern.length, pattern.length)).isEqualTo(pattern);
        assertThat(usage(stats(vol, target), VolumeUsage.Unit.BYTES).getTotal()).isEqualTo(grown);
        // A raw block volume needs no node expansion; asked anyway, it reports the device's size.
        assertThat(csi.node().nodeExpandVolume(NodeExpandVolumeRequest.newBuilder().setVolumeId(vol).setVolumePath(target.toString())
                .setVolumeCapability(cap).setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(grown)).build()).getCapacityBytes()).isEqualTo(grown);
        csi.node().nodeUnpublishVolume(NodeUnpublishVolumeRequest.newBuilder().setVolumeId(vol).setTargetPath(target.toString()).build());
        csi.node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId(vol).setStagingTargetPath(staging.toString()).build());
        assertThat(subsystemPresent(vol)).isFalse();
    }

    private void expand(String vol, String uri, long resized) throws Exception {
        Path staging = Files.createDirectories(Path.of("/run/csi/staging", vol));
        Path target = Files.createDirectories(Path.of("/run/csi/pods/pod-c/volumes")).resolve("grow");
        VolumeCapability cap = Caps.mount("ext4");
        csi.node().nodeStageVolume(NodeStageVolumeRequest.newBuilder().setVolumeId(vol).putPublishContext("uri", uri)
                .setStagingTargetPath(staging.toString()).setVolumeCapability(cap).build());
        csi.node().nodePublishVolume(NodePublishVolumeRequest.newBuilder().setVolumeId(vol).putPublishContext("uri", uri)
                .setStagingTargetPath(staging.toString()).setTargetPath(target.toString()).setVolumeCapability(cap).build());
        Files.writeString(target.resolve("before.txt"), "written before the resize");
        Map<String, String> written = new LinkedHashMap<>();
        Random rnd = new Random(17);
        for (int i = 0; i < 4; i++) {
            byte[] data = new byte[1024 * 1024 + i];
            rnd.nextBytes(data);
            Path f = target.resolve("data-" + i + ".bin");
            Files.write(f, data);
            written.put(f.getFileName().toString(), sha256(data));
        }
        sh("sync");
        long before = usage(stats(vol, target), VolumeUsage.Unit.BYTES).getTotal();
        long dfBefore = dfBytes(target);
        log("filesystem total before resize: " + before + " (df " + dfBefore + ")");
        hostExpandsAndKernelSeesIt(vol, resized);
        long capacity = csi.node().nodeExpandVolume(NodeExpandVolumeRequest.newBuilder().setVolumeId(vol).setVolumePath(target.toString())
                .setStagingTargetPath(staging.toString()).setVolumeCapability(cap)
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(resized)).build()).getCapacityBytes();
        assertThat(capacity).isEqualTo(resized);
        long after = usage(stats(vol, target), VolumeUsage.Unit.BYTES).getTotal();
        long dfAfter = dfBytes(target);
        log("filesystem total after expand: " + after + " (df " + dfAfter + ", device " + capacity + ")");
        assertThat(after).isGreaterThan(before * 2);
        assertThat(dfAfter).as("df's size").isGreaterThan(dfBefore * 2).isGreaterThan(resized * 8 / 10).isLessThanOrEqualTo(resized);
        assertThat(Files.readString(target.resolve("before.txt"))).isEqualTo("written before the resize");
        for (Map.Entry<String, String> e : written.entrySet()) {
            assertThat(sha256(Files.readAllBytes(target.resolve(e.getKey())))).as(e.getKey()).isEqualTo(e.getValue());
        }
        // The grown filesystem has room beyond the old size: allocate more than the whole old filesystem.
        sh("fallocate", "-l", Long.toString(dfBefore + (8 << 20)), target.resolve("bigger-than-before.bin").toString());
        sh("sync");
        // More than the volume has: the target's Identify Namespace says so, so it fails at once rather than after the
        // device timeout (the message carries the target's size, read through the kernel's path with nvme-cli).
        StatusRuntimeException tooBig = fails(Status.Code.OUT_OF_RANGE, "expand the volume on the controller first", () -> csi.node().nodeExpandVolume(
                NodeExpandVolumeRequest.newBuilder().setVolumeId(vol).setVolumePath(target.toString())
                        .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(resized * 4)).build()));
        assertThat(tooBig.getStatus().getDescription()).contains("its target reports " + resized + ",");
    }

    /** The controller ids (cntlid) of the volume's NVMe controllers: a reconnect gets new ones from the target. */
    private static List<String> controllerIds(String vol) throws IOException {
        List<String> controllers = SYSFS.controllers(io.javastor.csi.node.NodeService.NQN_PREFIX + vol);
        if (controllers.isEmpty()) {
            throw new AssertionError("volume " + vol + " is not connected");
        }
        List<String> ids = new java.util.ArrayList<>();
        for (String c : controllers) {
            ids.add(c + "=" + Files.readString(Path.of("/sys/class/nvme", c, "cntlid")).strip());
        }
        return ids;
    }

    /** {@code df}'s size of the filesystem mounted at {@code path}, in bytes. */
    private static long dfBytes(Path path) throws Exception {
        String[] lines = sh("df", "-B1", "--output=size", path.toString()).strip().split("\n");
        return Long.parseLong(lines[lines.length - 1].strip());
    }

    private void deviceGone(String vol) throws Exception {
        Path staging = Path.of("/run/csi/staging", vol);
        Path target = Path.of("/run/csi/pods/pod-c/volumes/grow");
        assertThat(stats(vol, target).getVolumeCondition().getAbnormal()).isFalse();
        sh("nvme", "disconnect", "-n", "nqn.2019-05.io.javastor:" + vol); // the path to the target is lost
        NodeGetVolumeStatsResponse gone = stats(vol, target);
        log("condition after disconnect: " + gone.getVolumeCondition());
        assertThat(gone.getVolumeCondition().getAbnormal()).isTrue();
        assertThat(gone.getVolumeCondition().getMessage()).contains(vol);
        csi.node().nodeUnpublishVolume(NodeUnpublishVolumeRequest.newBuilder().setVolumeId(vol).setTargetPath(target.toString()).build());
        csi.node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId(vol).setStagingTargetPath(staging.toString()).build());
        csi.node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId(vol).setStagingTargetPath(staging.toString()).build());
        assertThat(target).doesNotExist();
        assertThat(sh("cat", "/proc/self/mountinfo")).doesNotContain(staging.toString());
    }

    // ---- helpers ----

    private NodeGetVolumeStatsResponse stats(String vol, Path path) {
        return csi.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder().setVolumeId(vol).setVolumePath(path.toString()).build());
    }

    private static VolumeUsage usage(NodeGetVolumeStatsResponse r, VolumeUsage.Unit unit) {
        return r.getUsageList().stream().filter(u -> u.getUnit() == unit).findFirst().orElseThrow(() -> new AssertionError("no " + unit + " usage in " + r));
    }

    private static boolean subsystemPresent(String vol) {
        return SYSFS.subsystemDir(io.javastor.csi.node.NodeService.NQN_PREFIX + vol).isPresent();
    }

    /** The first controller (nvmeN) of the volume's subsystem, as the node plugin reads sysfs. */
    private static String controllerOf(String vol) {
        return SYSFS.controllers(io.javastor.csi.node.NodeService.NQN_PREFIX + vol).stream().findFirst()
                .orElseThrow(() -> new AssertionError("volume " + vol + " is not connected"));
    }

    /** The volume's namespace block device (/dev/nvmeXnY). */
    private static Path device(String vol) {
        return SYSFS.namespaceDevice(io.javastor.csi.node.NodeService.NQN_PREFIX + vol)
                .orElseThrow(() -> new AssertionError("volume " + vol + " has no namespace device"));
    }

    private static byte[] read(Path p, long offset, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            while (buf.hasRemaining()) {
                if (ch.read(buf, offset + buf.position()) < 0) {
                    break;
                }
            }
        }
        return buf.array();
    }

    private static String sh(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        if (rc != 0) {
            throw new AssertionError(String.join(" ", cmd) + " exited " + rc + ": " + out);
        }
        return out;
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
