package io.javastor.csi.vm;

import io.javastor.api.tls.ClusterPeer;
import io.javastor.api.tls.ClusterTls;
import io.javastor.testsupport.LinuxVm;
import io.javastor.testsupport.ClusterCertificates;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import csi.v1.Csi.CapacityRange;
import csi.v1.Csi.ControllerPublishVolumeRequest;
import csi.v1.Csi.CreateVolumeRequest;
import io.javastor.csi.CsiApplication;
import io.javastor.csi.support.Caps;
import io.javastor.csi.support.CsiClient;
import io.javastor.csi.support.GatewayStack;
import tools.jackson.databind.json.JsonMapper;

/**
 * Target failover with the Linux kernel's native NVMe multipath (issue 14): a 3-replica volume, published through the
 * CSI controller with its target on csi-node-1, staged as a raw block device by the node plugin inside the VM (path
 * agent on). In three phases, fio writes with crc32c headers while the host (a) kills the io-engine serving the
 * target with SIGKILL, (b) drains the target's node, (c) freezes the target's io-engine with SIGSTOP until the target
 * has moved, then thaws it: the thawed old target is destroyed as stale (the fence that keeps its writes off the
 * replicas is TargetMoveTest's). Each time the core agent moves
 * the target (on the host's path report, the node going Offline, or the drain), the path agent connects the new
 * address as another path of the same subsystem and drops the dead one: fio ends with zero errors, a verify-only pass
 * over what it wrote passes, and the longest gap between two completions is printed per phase (the I/O pause).
 * Every engine's volume targets use the frontend address 10.0.2.100 (the host as the VM sees it) on a port the VM
 * forwards (8421-8423); the core agent's gRPC port is forwarded too, for the path agent. Run with -Djavastor.vm=true.
 */
@Tag("vm")
@EnabledIfSystemProperty(named = "javastor.vm", matches = "true", disabledReason = "failover VM test: run with -Djavastor.vm=true (./javastor test does)")
class FailoverVmTest {
    static final String VM_NODE = "vm-node";
    static final int FIRST_PORT = 8421;
    static final long SIZE = 64L << 20;
    /**
     * What the host does to the target while the guest's fio writes, in order (-Djavastor.failover.phases to choose).
     * The SIGSTOP phase once showed a hole (docs/ha.md, the frozen target): a thawed old target acknowledged nothing
     * only since the agent refuses its child reports and the io-engine takes that refusal as fencing.
     */
    static final List<String> PHASES = List.of(System.getProperty("javastor.failover.phases", "kill9,drain,sigstop").split(","));

    @Test
    void killedDrainedAndFrozenTargetsMoveAndTheHostCarriesOnWithoutAnIoError(@TempDir Path tmp) throws Exception {
        LinuxVm.tools(); // skips, saying why, without the harness

        // The host authenticates to the volume's targets (DH-HMAC-CHAP, on by default): the guest boots a kernel that can.
        Path kernel = io.javastor.testsupport.GuestKernels.withNvmeAuthentication();
        Map<String, List<String>> engineArgs = new java.util.HashMap<>();
        for (int i = 0; i < GatewayStack.NODES.size(); i++) {
            engineArgs.put(GatewayStack.NODES.get(i), List.of("--javastor.io-engine.nvmf.port=" + (FIRST_PORT + i),
                    "--javastor.io-engine.nvmf.frontend-address=10.0.2.100"));
        }
        ConfigurableApplicationContext controller = null;
        try (GatewayStack stack = GatewayStack.start(tmp.resolve("stack"), engineArgs)) {
            Path socket = tmp.resolve("csi-controller.sock");
            controller = new SpringApplicationBuilder(CsiApplication.class).run("--javastor.csi.mode=controller",
                    "--javastor.csi.endpoint=" + socket, "--javastor.csi.rest-url=" + stack.url(), "--javastor.csi.rest-ca-file=" + io.javastor.testsupport.ClusterCertificates.shared().dir().resolve("ca.crt"),
                    "--javastor.csi.rest-token-file=" + stack.tokenFile("operator"));
            String victim = GatewayStack.NODES.get(0);
            String id;
            String uri;
            try (CsiClient csi = new CsiClient(socket, 240)) {
                id = csi.controller().createVolume(CreateVolumeRequest.newBuilder().setName("pvc-failover").addVolumeCapabilities(Caps.block())
                        .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(SIZE)).putParameters("repl", "3")
                        .putParameters("protocol", "nvmf").putParameters("thin", "true").putParameters("ioTimeout", "30").build())
                        .getVolume().getVolumeId();
                // The target on the victim for the VM's node (an operator's publish); the controller's publish reuses it
                // once the guest's plugin registered its node.
                HttpResponse<String> placed = stack.call("PUT", "/v0/volumes/" + id + "/target", "{\"protocol\":\"nvmf\",\"node\":\""
                        + victim + "\",\"frontend_node\":\"" + VM_NODE + "\",\"publish_context\":{}}");
                assertThat(placed.statusCode()).as(placed.body()).isEqualTo(200);
            }
            int agentPort = Integer.parseInt(stack.agentAddress().substring(stack.agentAddress().lastIndexOf(':') + 1));

            Path share = Files.createDirectories(tmp.resolve("share"));
            // The path agent reaches the core agent with mTLS as csi-node, as in production: its files go with the guest.
            ClusterTls csiNode = ClusterCertificates.shared().of(ClusterPeer.CSI_NODE);
            Path guestTls = Files.createDirectories(share.resolve("tls"));
            Files.copy(csiNode.caFile(), guestTls.resolve("ca.crt"));
            Files.copy(csiNode.certFile(), guestTls.resolve("csi-node.crt"));
            Files.copy(csiNode.keyFile(), guestTls.resolve("csi-node.key"));
            NodePluginVmTest.writeGuestJava(share, stack.agentAddress());
            Files.writeString(share.resolve("agent.txt"), "10.0.2.100:" + agentPort);
            LinuxVm vm = LinuxVm.resource(tmp, FailoverVmTest.class, "/vm/failover-guest.sh").kernel(kernel)
                    .hostPorts(FIRST_PORT, FIRST_PORT + 1, FIRST_PORT + 2, agentPort).timeout(Duration.ofSeconds(1700)).start();
            Map<String, String> movedBy = new java.util.LinkedHashMap<>();
            try {
                // ControllerPublishVolume only publishes to a node whose plugin registered it: the guest's, once it runs.
                NodePluginVmTest.awaitRegistered(stack, vm);
                try (CsiClient csi = new CsiClient(socket, 240)) {
                    uri = csi.controller().controllerPublishVolume(ControllerPublishVolumeRequest.newBuilder().setVolumeId(id).setNodeId(VM_NODE)
                            .setVolumeCapability(Caps.block()).putVolumeContext("ioTimeout", "30").build()).getPublishContextOrThrow("uri");
                }
                assertThat(uri).isEqualTo("nvmf://10.0.2.100:" + FIRST_PORT + "/nqn.2019-05.io.javastor:" + id);
                NodePluginVmTest.writeWhole(share.resolve("args.txt"), String.join(" ", uri, id, String.join(" ", PHASES)));
                for (String phase : PHASES) {
                    await("guest fio writing in phase " + phase + " (or VM ended)").atMost(Duration.ofMinutes(20)).pollInterval(Duration.ofMillis(200))
                            .until(() -> Files.exists(share.resolve(phase + "-writing")) || !vm.isAlive());
                    assertThat(share.resolve(phase + "-writing")).as("the guest got to write in phase %s; see the VM output", phase).exists();
                    String from = targetNode(stack, id);
                    long movesBefore = moves(stack, id);
                    switch (phase) {
                        case "kill9" -> stack.engine(from).kill9();
                        case "drain" -> assertThat(stack.call("PUT", "/v0/nodes/" + from + "/drain/failover-test", null).statusCode()).isEqualTo(200);
                        case "sigstop" -> signal(stack.engine(from).process().pid(), "STOP");
                        default -> throw new IllegalArgumentException(phase);
                    }
                    try {
                        await("target moved off " + from + " in phase " + phase).atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500))
                                .until(() -> moves(stack, id) > movesBefore && !targetNode(stack, id).equals(from));
                    } finally {
                        if (phase.equals("sigstop")) {
                            signal(stack.engine(from).process().pid(), "CONT");
                        }
                    }
                    movedBy.put(phase, lastMoveReason(stack, id));
                    if (phase.equals("sigstop")) {
                        // The thawed old target is fenced (a newer generation holds the replicas: TargetMoveTest shows its
                        // writes refused) and, once its node answers again, destroyed as a stale target.
                        var engine = stack.engine(from);
                        await("the thawed old target destroyed").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                                .ignoreExceptions().until(() -> engine.api().nexuses().listNexus(
                                        io.javastor.api.ioengine.v1.ListNexusRequest.newBuilder().setUuid(id).build()).getNexusListCount() == 0);
                        // The agent records the destroy once it has issued it: just after the nexus went, or before.
                        await("the stale target's destroy on record").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                                .untilAsserted(() -> assertThat(stack.call("GET", "/v0/events?resource_id=" + id + "&kind=StaleTargetDestroyed",
                                        null).body()).contains("old target on node " + from));
                    }
                    await("guest done with phase " + phase + " (or VM ended)").atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(500))
                            .until(() -> Files.exists(share.resolve(phase + "-done")) || !vm.isAlive());
                    if (phase.equals("kill9")) {
                        stack.engine(from).start(); // back for the next phases (its replica is rebuilt meanwhile)
                    } else if (phase.equals("drain")) {
                        assertThat(stack.call("DELETE", "/v0/nodes/" + from + "/cordon/failover-test", null).statusCode()).isEqualTo(200);
                    }
                }
                assertThat(vm.waitFor(20, TimeUnit.MINUTES)).as("VM finished").isTrue();
            } finally {
                vm.close();
                System.out.println("---- VM output ----\n" + vm.output() + "\n---- guest-info ----\n" + read(share.resolve("guest-info.txt"))
                        + "\n---- plugin.log (path agent) ----\n" + grep(share.resolve("plugin.log"), "PathAgent|path |ERROR|WARN"));
                // The nodes' own account of each move (a refused connect, an I/O a target failed): the stack's files go with tmp.
                try (var logs = Files.list(stack.dir())) {
                    for (Path log : logs.filter(l -> l.getFileName().toString().endsWith(".log")).sorted().toList()) {
                        System.out.println("---- " + log.getFileName() + " (WARN/ERROR) ----\n" + grep(log, "WARN|ERROR"));
                    }
                }
            }
            String results = read(share.resolve("result.txt"));
            System.out.println("---- result.txt ----\n" + results + "\nmoves: " + movedBy);
            for (String phase : PHASES) {
                assertThat(results.lines()).anyMatch(l -> l.equals("PASS " + phase + "-fio-zero-errors"));
                assertThat(results.lines()).anyMatch(l -> l.equals("PASS " + phase + "-verify-only"));
                Matcher pause = Pattern.compile(phase + " pause_ms=(\\d+)").matcher(results);
                assertThat(pause.find()).as("the guest measured the pause of %s", phase).isTrue();
                Matcher gap = Pattern.compile(phase + " gap_p99_ms=(\\d+)").matcher(results);
                assertThat(gap.find()).isTrue();
                // Figures for bench/run failover (key=value lines): the pause, and an ordinary gap of the same run for reference.
                System.out.println("failover_" + phase + "_io_pause_s=" + Long.parseLong(pause.group(1)) / 1000.0);
                System.out.println("failover_" + phase + "_gap_p99_s=" + Long.parseLong(gap.group(1)) / 1000.0);
            }
            assertThat(results.lines()).as("the path agent left one live path, not the first").anyMatch(l -> l.equals("PASS paths-clean"));
            assertThat(results).doesNotContain("FAIL");
            assertThat(vm.exitValue()).isZero();
            // Each move is the agent's own: the host's report or the node Offline for the kill and the freeze (QEMU's
            // forwarding hides the connection reset, so the guest notices by its keep-alive, about when the agent sees
            // the node Offline), the drain for the drain.
            Map<String, List<String>> reasons = Map.of("kill9", List.of("lost its path", "is offline"), "drain", List.of("is drained"),
                    "sigstop", List.of("lost its path", "is offline"));
            for (String phase : PHASES) {
                assertThat(movedBy.get(phase)).as("what moved the target in phase %s", phase).containsAnyOf(reasons.get(phase).toArray(String[]::new));
            }
        } finally {
            if (controller != null) {
                controller.close();
            }
        }
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static String targetNode(GatewayStack stack, String id) {
        HttpResponse<String> v = stack.call("GET", "/v0/volumes/" + id, null);
        return JSON.readTree(v.body()).path("spec").path("target").path("node").asString();
    }

    private static long moves(GatewayStack stack, String id) {
        return JSON.readTree(stack.call("GET", "/v0/events?resource_id=" + id + "&kind=TargetMoved", null).body()).path("total").asLong();
    }

    private static String lastMoveReason(GatewayStack stack, String id) {
        var entries = JSON.readTree(stack.call("GET", "/v0/events?resource_id=" + id + "&kind=TargetMoved&page_size=1000", null).body())
                .path("entries");
        String newest = "";
        long newestId = -1;
        for (var e : entries) {
            if (e.path("id").asLong() > newestId) {
                newestId = e.path("id").asLong();
                newest = e.path("message").asString();
            }
        }
        return newest;
    }

    private static void signal(long pid, String sig) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor()).as("kill -%s", sig).isZero();
    }

    private static String read(Path f) throws IOException {
        return Files.exists(f) ? Files.readString(f, StandardCharsets.ISO_8859_1) : "(none)";
    }

    private static String grep(Path f, String regex) throws IOException {
        Pattern p = Pattern.compile(regex);
        return String.join("\n", read(f).lines().filter(l -> p.matcher(l).find()).toList());
    }
}
