package io.javastor.csi.vm;

import tools.jackson.databind.JsonNode;
import csi.v1.Csi;
import csi.v1.Csi.CapacityRange;
import csi.v1.Csi.ControllerExpandVolumeRequest;
import csi.v1.Csi.ControllerExpandVolumeResponse;
import csi.v1.Csi.ControllerPublishVolumeRequest;
import csi.v1.Csi.CreateVolumeRequest;
import csi.v1.Csi.VolumeCapability;
import io.javastor.csi.CsiApplication;
import io.javastor.api.rest.BearerTokenFile;
import io.javastor.csi.controller.RestGateway;
import io.javastor.csi.support.Caps;
import io.javastor.csi.support.CsiClient;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.api.tls.ClusterTls;
import io.javastor.testsupport.ClusterCertificates;
import io.javastor.testsupport.GuestKernels;
import io.javastor.testsupport.JavaProcess;
import io.javastor.testsupport.LinuxVm;
import io.javastor.csi.support.GatewayStack;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The node plugin inside the Linux VM (../shared/tools/linux-nvme-vm; the host kernel has no nvme-tcp), against the
 * whole control plane on the host ({@link GatewayStack}: etcd, core agent, REST gateway, three io-engines) and the
 * controller plugin in this JVM. Two 3-replica volumes are created and published through the controller (their
 * nexus on csi-node-1, the engine the VM can reach). The guest runs the plugin and {@link GuestNodeDriver}, which
 * stages volume A as ext4, publishes, writes, unpublishes, unstages, stages again and reads back; publishes it raw;
 * then, while each volume is in use, asks this test to expand it through the controller (ControllerExpandVolume:
 * replicas, then the nexus, while published): the raw device of A grows, and volume B's ext4 grows with
 * NodeExpandVolume with its files intact; in both the guest kernel sees the new size by itself (the target's Namespace
 * Attribute Changed notice), before any rescan. Stats, including the abnormal condition once the device is gone.
 * The volumes are published through the controller only once the guest's plugin registered its node as an app node
 * (publishing to a node no plugin registered is NOT_FOUND); the guest's driver waits for their URIs (args.txt).
 * Uses host port 8424 (forwarded into the VM; -Djavastor.csi.vm.port to change). Run with -Djavastor.vm=true.
 */
@Tag("vm")
@EnabledIfSystemProperty(named = "javastor.vm", matches = "true", disabledReason = "CSI node VM test: run with -Djavastor.vm=true (./javastor test does)")
class NodePluginVmTest {
    /** A port the VM forwards; 8420-8422 are the local cluster's and other VM tests', so 8424 unless told. */
    static final int VM_PORT = Integer.getInteger("javastor.csi.vm.port", 8424);
    static final long MIB = 1L << 20;
    static final long A_SIZE = 96 * MIB;
    static final long A_GROWN = 128 * MIB;
    static final long B_SIZE = 64 * MIB;
    static final long B_GROWN = 160 * MIB;
    static final String VM_NODE = "vm-node";
    static final List<String> SCENARIOS = List.of("host-without-secret-refused-plugin-authenticates", "ext4-stage-publish-write-restage-read",
            "clone-from-snapshot-mounts-as-at-snapshot", "raw-block-publish-write-read",
            "raw-block-grows-after-controller-expand", "ext4-expand-after-controller-expand-and-stats",
            "stats-abnormal-when-device-gone-then-cleanup");

    @Test
    void nodePluginStagesPublishesExpandsAndReportsStatsInTheVm(@TempDir Path tmp) throws Exception {
        LinuxVm.tools(); // skips, saying why, without the harness

        // Hosts authenticate to their volumes' targets (DH-HMAC-CHAP, on by default): the guest boots a kernel that can.
        Path kernel = GuestKernels.withNvmeAuthentication();
        ConfigurableApplicationContext controller = null;
        try (GatewayStack stack = GatewayStack.start(tmp.resolve("stack"), Map.of(GatewayStack.NODES.get(0), List.of(
                "--javastor.io-engine.nvmf.port=" + VM_PORT, "--javastor.io-engine.nvmf.advertised-address=10.0.2.100")))) {
            Path socket = tmp.resolve("csi-controller.sock");
            controller = new SpringApplicationBuilder(CsiApplication.class).run("--javastor.csi.mode=controller",
                    "--javastor.csi.endpoint=" + socket, "--javastor.csi.rest-url=" + stack.url(), "--javastor.csi.rest-ca-file=" + io.javastor.testsupport.ClusterCertificates.shared().dir().resolve("ca.crt"),
                    "--javastor.csi.rest-token-file=" + stack.tokenFile("operator"));
            try (CsiClient csi = new CsiClient(socket, 240)) {
                String a = createAndPlace(csi, stack, "pvc-vm-a", A_SIZE);
                String b = createAndPlace(csi, stack, "pvc-vm-b", B_SIZE);

                Path share = Files.createDirectories(tmp.resolve("share"));
                // The plugin gets its connections' secrets from the core agent, with mTLS as csi-node, as in production.
                int agentPort = Integer.parseInt(stack.agentAddress().substring(stack.agentAddress().lastIndexOf(':') + 1));
                Files.writeString(share.resolve("agent.txt"), "10.0.2.100:" + agentPort);
                ClusterTls csiNode = ClusterCertificates.shared().of(ClusterPeer.CSI_NODE);
                Path guestTls = Files.createDirectories(share.resolve("tls"));
                Files.copy(csiNode.caFile(), guestTls.resolve("ca.crt"));
                Files.copy(csiNode.certFile(), guestTls.resolve("csi-node.crt"));
                Files.copy(csiNode.keyFile(), guestTls.resolve("csi-node.key"));
                writeGuestJava(share, stack.agentAddress());
                Path hostDir = Files.createDirectories(tmp.resolve("host"));
                Path modules = hostDir.resolve("guest-fs-modules.sh");
                try (InputStream in = NodePluginVmTest.class.getResourceAsStream("/vm/guest-fs-modules.sh")) {
                    Files.write(modules, in.readAllBytes());
                }
                ProcessBuilder fetchModules = new ProcessBuilder("bash", modules.toString(), share.resolve("modules").toString()).redirectErrorStream(true)
                        .redirectOutput(hostDir.resolve("modules.log").toFile());
                fetchModules.environment().put("VM_CACHE", kernel.toString());
                Process fetch = fetchModules.start();
                assertThat(fetch.waitFor(10, TimeUnit.MINUTES)).as("guest filesystem modules extracted").isTrue();
                assertThat(fetch.exitValue()).as(read(hostDir.resolve("modules.log"))).isZero();
                LinuxVm vm = LinuxVm.resource(tmp, NodePluginVmTest.class, "/vm/csi-node-guest.sh").kernel(kernel).hostPorts(VM_PORT, agentPort)
                        .timeout(Duration.ofSeconds(1700)).memoryMb(2048).start();
                List<String> expanded = new ArrayList<>();
                String clone = null;
                try {
                    // ControllerPublishVolume only publishes to a node whose plugin registered it: the guest's, once it runs.
                    awaitRegistered(stack, vm);
                    String aUri = uri(csi, a);
                    String bUri = uri(csi, b);
                    // The guest's driver starts once the plugin is up and this file is there (written whole, then renamed).
                    writeWhole(share.resolve("args.txt"), String.join(" ", aUri, a, bUri, b, Long.toString(A_GROWN), Long.toString(B_GROWN)));
                    // The guest asks for a snapshot of A (mounted, ext4) and a clone restored from it.
                    clone = snapshotAndCloneWhenAsked(csi, stack, share, vm, a);
                    // The guest asks, while the volume is staged and in use: raw A first, then ext4 B.
                    if (clone != null && expandWhenAsked(csi, share, vm, a, A_GROWN, Caps.block(), false)) {
                        expanded.add(a);
                        if (expandWhenAsked(csi, share, vm, b, B_GROWN, Caps.mount("ext4"), true)) {
                            expanded.add(b);
                        }
                    }
                    assertThat(vm.waitFor(30, TimeUnit.MINUTES)).as("VM finished").isTrue();
                } finally {
                    vm.close();
                    System.out.println("---- VM output ----\n" + vm.output() + "\n---- driver.log ----\n" + read(share.resolve("driver.log"))
                            + "\n---- plugin.log (tail) ----\n" + tail(share.resolve("plugin.log")) + "\n---- console (tail) ----\n" + vm.consoleTail(4000));
                }
                String results = read(share.resolve("result.txt"));
                System.out.println("---- result.txt ----\n" + results);
                assertThat(expanded).as("the guest reached the snapshot and both expansion steps").containsExactly(a, b);
                for (String s : SCENARIOS) {
                    assertThat(results.lines()).as("scenario " + s).anyMatch(l -> l.startsWith("PASS " + s + " "));
                }
                assertThat(results).doesNotContain("FAIL");
                assertThat(vm.exitValue()).isZero();
                RestGateway gateway = new RestGateway(stack.url(), Duration.ofSeconds(30), new BearerTokenFile(stack.tokenFile("viewer")),
                        io.javastor.testsupport.ClusterCertificates.shared().dir().resolve("ca.crt"));
                for (String id : List.of(a, b, clone)) {
                    JsonNode v = gateway.getVolume(id).orElseThrow();
                    System.out.println("volume " + id + " after the guest: " + v);
                    assertThat(v.path("spec").path("size").asLong()).isEqualTo(id.equals(a) ? A_GROWN : id.equals(b) ? B_GROWN : A_SIZE);
                    assertThat(v.path("state").path("status").asString()).as("no replica faulted under the guest's I/O").isEqualTo("Online");
                }
            }
        } finally {
            if (controller != null) {
                controller.close();
            }
        }
    }

    /**
     * The guest's java binary (java.txt), the classpath its JVMs use (classpath.txt) and their extra JVM options
     * (java-options.txt): a class archive of the node plugin's classes, made here by a training run in node mode with
     * the guest's options and certificates (share/tls), when it can be made. Under the guest's emulation the plugin
     * spent most of its ~70 s start loading classes; the drivers on the same classpath map the same archive.
     */
    static void writeGuestJava(Path share, String agentAddress) throws IOException {
        JavaProcess.GuestJava java = JavaProcess.forGuest(CsiApplication.class.getName(), List.of("-Xmx256m", "-XX:-UsePerfData"),
                List.of("--javastor.csi.mode=node", "--javastor.csi.endpoint=" + share.resolveSibling("training-csi.sock"),
                        "--javastor.csi.node-name=" + VM_NODE, "--javastor.csi.core-agent-address=" + agentAddress,
                        "--javastor.tls.ca-file=" + share.resolve("tls/ca.crt"), "--javastor.tls.cert-file=" + share.resolve("tls/csi-node.crt"),
                        "--javastor.tls.key-file=" + share.resolve("tls/csi-node.key")));
        Files.writeString(share.resolve("java.txt"), JavaProcess.java());
        Files.writeString(share.resolve("classpath.txt"), java.classpath());
        Files.writeString(share.resolve("java-options.txt"), java.archiveOption());
    }

    /** Waits until the guest's node plugin registered vm-node as an app node (it does at start); fails when the VM ends first. */
    static void awaitRegistered(GatewayStack stack, LinuxVm vm) {
        await("the guest's node plugin registered " + VM_NODE + " (or VM ended)").atMost(Duration.ofMinutes(15))
                .pollInterval(Duration.ofSeconds(2)).until(() -> registered(stack) || !vm.isAlive());
        assertThat(registered(stack)).as("the guest's node plugin registered %s; see the VM output", VM_NODE).isTrue();
    }

    private static boolean registered(GatewayStack stack) {
        HttpResponse<String> r = stack.call("GET", "/v0/app-nodes/" + VM_NODE, null);
        return r != null && r.statusCode() == 200;
    }

    /** Writes a file the guest polls for so that it never reads it half-written. */
    static void writeWhole(Path file, String text) throws IOException {
        Path part = file.resolveSibling(file.getFileName() + ".part");
        Files.writeString(part, text);
        Files.move(part, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * CreateVolume (3 replicas) and its nexus placed on csi-node-1 (the engine the VM reaches) for vm-node; the
     * controller's ControllerPublishVolume (once the guest's plugin registered) reuses it.
     */
    private static String createAndPlace(CsiClient csi, GatewayStack stack, String name, long size) {
        return createAndPlace(csi, stack, name, size, null);
    }

    private static String createAndPlace(CsiClient csi, GatewayStack stack, String name, long size, Csi.VolumeContentSource source) {
        CreateVolumeRequest.Builder request = CreateVolumeRequest.newBuilder().setName(name).addVolumeCapabilities(Caps.mount("ext4"))
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(size)).putParameters("repl", "3")
                .putParameters("protocol", "nvmf").putParameters("thin", "true").putParameters("ioTimeout", "30");
        if (source != null) {
            request.setVolumeContentSource(source);
        }
        String id = csi.controller().createVolume(request.build()).getVolume().getVolumeId();
        // Which node holds the target is the control plane's choice; the VM only reaches csi-node-1, so ask for it
        // there (an operator's publish) before the controller's publish for the VM's node reuses it.
        HttpResponse<String> placed = stack.call("PUT", "/v0/volumes/" + id + "/target", "{\"protocol\":\"nvmf\",\"node\":\""
                + GatewayStack.NODES.get(0) + "\",\"frontend_node\":\"" + VM_NODE + "\",\"publish_context\":{}}");
        assertThat(placed).isNotNull();
        assertThat(placed.statusCode()).as(placed.body()).isEqualTo(200);
        return id;
    }

    private static String uri(CsiClient csi, String id) {
        String uri = csi.controller().controllerPublishVolume(ControllerPublishVolumeRequest.newBuilder().setVolumeId(id).setNodeId(VM_NODE)
                .setVolumeCapability(Caps.mount("ext4")).putVolumeContext("ioTimeout", "30").build()).getPublishContextOrThrow("uri");
        assertThat(uri).isEqualTo("nvmf://10.0.2.100:" + VM_PORT + "/nqn.2019-05.io.javastor:" + id);
        return uri;
    }

    /**
     * Waits for the guest's snapshot-&lt;id&gt;-ready (volume {@code id} mounted, its files synced), takes a CSI
     * snapshot of it, creates a volume restored from the snapshot, places its target where the VM reaches it,
     * publishes it to the VM's node and answers snapshot-&lt;id&gt;-done with "cloneId cloneUri". Null when the VM
     * ended first.
     */
    private static String snapshotAndCloneWhenAsked(CsiClient csi, GatewayStack stack, Path share, LinuxVm vm, String id) throws IOException {
        Path ready = share.resolve("snapshot-" + id + "-ready");
        await("guest ready for the snapshot of " + id + " (or VM ended)").atMost(Duration.ofMinutes(20)).pollInterval(Duration.ofSeconds(1))
                .until(() -> Files.exists(ready) || !vm.isAlive());
        if (!Files.exists(ready)) {
            return null;
        }
        Csi.Snapshot snap = csi.controller().createSnapshot(Csi.CreateSnapshotRequest.newBuilder().setName("snap-vm-a").setSourceVolumeId(id).build())
                .getSnapshot();
        assertThat(snap.getReadyToUse()).isTrue();
        assertThat(snap.getSizeBytes()).isEqualTo(A_SIZE);
        Csi.VolumeContentSource source = Csi.VolumeContentSource.newBuilder().setSnapshot(
                Csi.VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(snap.getSnapshotId())).build();
        String clone = createAndPlace(csi, stack, "pvc-vm-a-restored", A_SIZE, source);
        writeWhole(share.resolve("snapshot-" + id + "-done"), clone + " " + uri(csi, clone));
        return clone;
    }

    /** Waits for the guest's resize-&lt;id&gt;-ready, expands through the controller, answers resize-&lt;id&gt;-done. */
    private static boolean expandWhenAsked(CsiClient csi, Path share, LinuxVm vm, String id, long size, VolumeCapability cap,
                                           boolean nodeExpansion) throws IOException {
        Path ready = share.resolve("resize-" + id + "-ready");
        await("guest ready for the resize of " + id + " (or VM ended)").atMost(Duration.ofMinutes(25)).pollInterval(Duration.ofSeconds(1))
                .until(() -> Files.exists(ready) || !vm.isAlive());
        if (!Files.exists(ready)) {
            return false;
        }
        ControllerExpandVolumeResponse r = csi.controller().controllerExpandVolume(ControllerExpandVolumeRequest.newBuilder().setVolumeId(id)
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(size)).setVolumeCapability(cap).build());
        assertThat(r.getCapacityBytes()).isEqualTo(size);
        assertThat(r.getNodeExpansionRequired()).isEqualTo(nodeExpansion);
        Files.writeString(share.resolve("resize-" + id + "-done"), "done");
        return true;
    }

    private static String read(Path f) throws IOException {
        return Files.exists(f) ? Files.readString(f, StandardCharsets.ISO_8859_1) : "(none)";
    }

    private static String tail(Path f) throws IOException {
        String s = read(f);
        return s.length() > 6000 ? s.substring(s.length() - 6000) : s;
    }
}
