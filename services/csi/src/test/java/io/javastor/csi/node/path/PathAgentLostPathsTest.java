package io.javastor.csi.node.path;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.csi.node.HostSecrets;
import io.javastor.csi.node.NodeService;
import io.javastor.csi.node.NvmeCli;

/**
 * Which subsystems the path agent takes for lost, read from a sysfs tree laid out as the kernel's (class/nvme-subsystem,
 * class/nvme). Only the decision: reporting and connecting are the VM tests' (FailoverVmTest, NodePluginVmTest).
 */
class PathAgentLostPathsTest {
    private static final String NQN = NodeService.NQN_PREFIX + "8413339e-ebd6-36bc-82e7-a3a07835c9b2";
    private static final Instant T0 = Instant.parse("2026-12-04T04:00:00Z");

    @TempDir
    Path sys;
    // Never dialled: lostPaths() only reads sysfs.
    private final ManagedChannel nowhere = ManagedChannelBuilder.forTarget("127.0.0.1:1").usePlaintext().build();
    private PathAgent agent;

    @AfterEach
    void close() {
        nowhere.shutdownNow();
    }

    private PathAgent agent() {
        return new PathAgent(new NvmeCli(sys), VolumeServiceGrpc.newBlockingStub(nowhere), (v, h) -> java.util.Optional.<HostSecrets.Pair>empty(),
                new PathAgent.HostSettings(NodeService.HOST_NQN_PREFIX + "node-a", "node-a", 1800, 2), Duration.ofSeconds(1),
                Duration.ofSeconds(5), Clock.fixed(T0, java.time.ZoneOffset.UTC));
    }

    private void controller(String state) throws Exception {
        Path sub = Files.createDirectories(sys.resolve("class/nvme-subsystem/nvme-subsys0"));
        Files.writeString(sub.resolve("subsysnqn"), NQN + "\n");
        Files.createDirectories(sub.resolve("nvme0"));
        Path c = Files.createDirectories(sys.resolve("class/nvme/nvme0"));
        Files.writeString(c.resolve("state"), state + "\n");
        Files.writeString(c.resolve("address"), "traddr=10.0.2.100,trsvcid=8424,src_addr=10.0.2.15\n");
    }

    /** A controller of the subsystem in the given state, its namespace path's ANA state {@code ana} (null: none shown). */
    private void controller(String name, String state, String ana) throws Exception {
        Path sub = Files.createDirectories(sys.resolve("class/nvme-subsystem/nvme-subsys0"));
        Files.writeString(sub.resolve("subsysnqn"), NQN + "\n");
        Files.createDirectories(sub.resolve(name));
        Path c = Files.createDirectories(sys.resolve("class/nvme/" + name));
        Files.writeString(c.resolve("state"), state + "\n");
        Files.writeString(c.resolve("address"), "traddr=10.0.2.100,trsvcid=8424,src_addr=10.0.2.15\n");
        Path path = c.resolve(name.replace("nvme", "nvme0c") + "n1");
        if (ana != null) {
            Files.createDirectories(path);
            Files.writeString(path.resolve("ana_state"), ana + "\n");
        } else if (Files.exists(path)) {
            Files.delete(path.resolve("ana_state"));
            Files.delete(path);
        }
    }

    /**
     * Which paths go once another is usable. The decision reads each controller once: FailoverVmTest's CI failure was a
     * lone path read live, then read "connecting" (its target killed in between) and removed as an old target's.
     */
    @Test
    void onlyStalePathsBesideAUsableOneAreRemovedAndALonePathNever() throws Exception {
        agent = agent();
        controller("nvme0", "connecting", "optimized");
        assertThat(agent.stalePaths(NQN)).as("the only path, reconnecting: the kernel's to keep").isEmpty();
        controller("nvme1", "live", "optimized");
        assertThat(agent.stalePaths(NQN)).as("the old target's path beside the new one").containsExactly("nvme0");
        controller("nvme0", "live", "inaccessible");
        assertThat(agent.stalePaths(NQN)).as("a fenced old target's live path").containsExactly("nvme0");
        controller("nvme1", "live", "persistent-loss");
        assertThat(agent.stalePaths(NQN)).as("no usable path left: remove nothing").isEmpty();
        controller("nvme1", "live", null);
        assertThat(agent.stalePaths(NQN)).containsExactly("nvme0");
    }

    /**
     * The race itself: the kernel drops the only path to "connecting" between two reads of its state (sysfs read through
     * an NvmeCli whose nvme0 turns "connecting" after its second read (the agent has seen it live), as when the target is killed at that moment).
     * The path that was live must stay for the kernel to reconnect; the lost-path check, not this, deals with it.
     */
    @Test
    void aLonePathThatDropsWhileBeingLookedAtIsKept() throws Exception {
        controller("nvme0", "live", "optimized");
        java.util.List<String> disconnected = new java.util.ArrayList<>();
        NvmeCli kernelMidKill = new NvmeCli(sys) {
            private int reads;

            @Override
            public String controllerState(String controller) {
                return controller.equals("nvme0") && reads++ > 1 ? "connecting" : super.controllerState(controller);
            }

            @Override
            public void disconnectController(String controller) {
                disconnected.add(controller);
            }
        };
        agent = new PathAgent(kernelMidKill, VolumeServiceGrpc.newBlockingStub(nowhere), (v, h) -> java.util.Optional.<HostSecrets.Pair>empty(),
                new PathAgent.HostSettings(NodeService.HOST_NQN_PREFIX + "node-a", "node-a", 1800, 2), Duration.ofSeconds(1),
                Duration.ofSeconds(5), Clock.fixed(T0, java.time.ZoneOffset.UTC));
        agent.lostPaths(T0); // live at its first read: recorded live, and stale paths beside it dropped
        assertThat(disconnected).as("the only path, removed because it dropped mid-look").isEmpty();
    }

    @Test
    void aConnectInProgressIsNotALostPathUntilTheConnectGraceRunsOut() throws Exception {
        controller("connecting"); // a NodeStage's connect: authenticating its queues, never live yet
        agent = agent();
        assertThat(agent.lostPaths(T0)).isEmpty();
        assertThat(agent.lostPaths(T0.plusSeconds(5))).as("5 s into the connect").isEmpty();
        assertThat(agent.lostPaths(T0.plus(PathAgent.CONNECT_GRACE))).as("a connect that never came up").containsExactly(NQN);
    }

    /**
     * NodePluginVmTest's first scenario: a refused connect (no secret) leaves the subsystem without a controller; the
     * plugin's own connect then authenticates for longer than failAfter. Counting the empty subsystem as "live" made
     * that connect a path lost since then, and the agent moved the target away from the host staging it.
     */
    @Test
    void aSubsystemWithoutControllersIsNotLiveSoALaterConnectGetsItsGrace() throws Exception {
        Files.createDirectories(sys.resolve("class/nvme-subsystem/nvme-subsys0"));
        Files.writeString(sys.resolve("class/nvme-subsystem/nvme-subsys0/subsysnqn"), NQN + "\n");
        agent = agent();
        assertThat(agent.lostPaths(T0)).isEmpty();
        controller("connecting");
        assertThat(agent.lostPaths(T0.plusSeconds(2))).as("2 s into the plugin's connect").isEmpty();
        assertThat(agent.lostPaths(T0.plusSeconds(30))).as("30 s into it").isEmpty();
        assertThat(agent.lostPaths(T0.plusSeconds(2).plus(PathAgent.CONNECT_GRACE))).containsExactly(NQN);
    }

    @Test
    void aPathThatWasLiveIsLostOneFailAfterLater() throws Exception {
        controller("live");
        agent = agent();
        assertThat(agent.lostPaths(T0)).isEmpty();
        controller("connecting"); // the target went away: the kernel reconnects
        assertThat(agent.lostPaths(T0.plusMillis(500))).isEmpty();
        assertThat(agent.lostPaths(T0.plusMillis(1000))).containsExactly(NQN);
    }

    /**
     * NodePluginVmTest's raw-block scenario: an unstage, and at once a stage of the same volume, while the kernel
     * still has the subsystem: the new connect (authenticating, not live yet) is no path lost since the unstage.
     */
    @Test
    void aConnectThePluginStartsGetsItsGraceEvenWhereAPathWasLiveAMomentAgo() throws Exception {
        controller("live");
        agent = agent();
        assertThat(agent.lostPaths(T0)).isEmpty();
        agent.connecting(NQN); // NodeStage, right after the unstage's disconnect
        controller("connecting");
        assertThat(agent.lostPaths(T0.plusSeconds(2))).as("2 s into the re-stage's connect").isEmpty();
        assertThat(agent.lostPaths(T0.plusSeconds(30))).as("30 s into it").isEmpty();
        assertThat(agent.lostPaths(T0.plus(PathAgent.CONNECT_GRACE))).as("a connect that never came up").containsExactly(NQN);
    }

    @Test
    void aControllerBeingDeletedIsNeverALostPath() throws Exception {
        controller("live");
        agent = agent();
        assertThat(agent.lostPaths(T0)).isEmpty();
        controller("deleting"); // an unstage's disconnect
        assertThat(agent.lostPaths(T0.plusSeconds(10))).isEmpty();
        controller("deleting (no IO)");
        assertThat(agent.lostPaths(T0.plusSeconds(20))).isEmpty();
    }
}
