package io.javastor.csi;

import csi.v1.Csi.ControllerGetCapabilitiesRequest;
import csi.v1.Csi.GetPluginInfoRequest;
import csi.v1.Csi.NodeExpandVolumeRequest;
import csi.v1.Csi.NodeGetCapabilitiesRequest;
import csi.v1.Csi.NodeGetInfoRequest;
import csi.v1.Csi.NodeGetVolumeStatsRequest;
import csi.v1.Csi.NodePublishVolumeRequest;
import csi.v1.Csi.NodeServiceCapability;
import csi.v1.Csi.NodeStageVolumeRequest;
import csi.v1.Csi.NodeUnpublishVolumeRequest;
import csi.v1.Csi.NodeUnstageVolumeRequest;
import csi.v1.Csi.VolumeCapability;
import io.grpc.Status;
import io.javastor.csi.support.Caps;
import io.javastor.csi.support.CsiClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

import static io.javastor.csi.support.GrpcAssertions.fails;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The plugin in node mode on a real unix socket: identity, NodeGetInfo/NodeGetCapabilities, argument validation
 * (INVALID_ARGUMENT naming the field) and the calls that are safe on any host (nothing staged here: unpublish and
 * unstage succeed idempotently, stats and expand of a missing path are NOT_FOUND). Real staging runs in the VM
 * ({@link io.javastor.csi.vm.NodePluginVmTest}).
 */
class NodeModeSocketTest {
    @TempDir
    static Path tmp;
    static ConfigurableApplicationContext app;
    static CsiClient csi;
    static final String VOLUME = UUID.randomUUID().toString();

    @BeforeAll
    static void start() {
        Path socket = tmp.resolve("sockets/csi-node.sock");
        app = new SpringApplicationBuilder(CsiApplication.class).run("--javastor.csi.mode=node", "--javastor.csi.endpoint=" + socket,
                "--javastor.csi.node-name=worker-7", "--javastor.csi.max-volumes-per-node=32", "--javastor.csi.topology.zone=z1");
        csi = new CsiClient(socket, 20);
    }

    @AfterAll
    static void stop() throws Exception {
        csi.close();
        app.close();
    }

    @Test
    void identityAndNodeInfo() {
        assertThat(csi.identity().getPluginInfo(GetPluginInfoRequest.getDefaultInstance()).getManifestMap()).containsEntry("mode", "node");
        var info = csi.node().nodeGetInfo(NodeGetInfoRequest.getDefaultInstance());
        assertThat(info.getNodeId()).isEqualTo("worker-7");
        assertThat(info.getMaxVolumesPerNode()).isEqualTo(32);
        assertThat(info.getAccessibleTopology().getSegmentsMap()).containsEntry("io.javastor/nodename", "worker-7")
                .containsEntry("io.javastor/csi-node", "javastor").containsEntry("zone", "z1");
        assertThat(csi.node().nodeGetCapabilities(NodeGetCapabilitiesRequest.getDefaultInstance()).getCapabilitiesList())
                .extracting(c -> c.getRpc().getType()).contains(NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME,
                        NodeServiceCapability.RPC.Type.EXPAND_VOLUME, NodeServiceCapability.RPC.Type.GET_VOLUME_STATS);
        fails(Status.Code.UNIMPLEMENTED, "ControllerGetCapabilities",
                () -> csi.controller().controllerGetCapabilities(ControllerGetCapabilitiesRequest.getDefaultInstance()));
    }

    @Test
    void stageValidatesItsArgumentsFirst() {
        NodeStageVolumeRequest ok = NodeStageVolumeRequest.newBuilder().setVolumeId(VOLUME)
                .setStagingTargetPath(tmp.resolve("staging").toString()).setVolumeCapability(Caps.mount("ext4"))
                .putPublishContext("uri", "nvmf://127.0.0.1:1/nqn.2019-05.io.javastor:" + VOLUME).build();
        fails(Status.Code.INVALID_ARGUMENT, "volume_id", () -> csi.node().nodeStageVolume(ok.toBuilder().clearVolumeId().build()));
        fails(Status.Code.INVALID_ARGUMENT, "staging_target_path", () -> csi.node().nodeStageVolume(ok.toBuilder().clearStagingTargetPath().build()));
        fails(Status.Code.INVALID_ARGUMENT, "staging_target_path", () -> csi.node().nodeStageVolume(ok.toBuilder().setStagingTargetPath("relative/dir").build()));
        fails(Status.Code.INVALID_ARGUMENT, "volume_capability", () -> csi.node().nodeStageVolume(ok.toBuilder().clearVolumeCapability().build()));
        fails(Status.Code.INVALID_ARGUMENT, "access_mode", () -> csi.node().nodeStageVolume(ok.toBuilder()
                .setVolumeCapability(Caps.mount("ext4", VolumeCapability.AccessMode.Mode.MULTI_NODE_MULTI_WRITER)).build()));
        fails(Status.Code.INVALID_ARGUMENT, "publish_context.uri", () -> csi.node().nodeStageVolume(ok.toBuilder().clearPublishContext().build()));
        fails(Status.Code.INVALID_ARGUMENT, "publish_context.uri", () -> csi.node().nodeStageVolume(ok.toBuilder()
                .putPublishContext("uri", "iscsi://h:1/x").build()));
        fails(Status.Code.INVALID_ARGUMENT, "is not volume", () -> csi.node().nodeStageVolume(ok.toBuilder()
                .putPublishContext("uri", "nvmf://127.0.0.1:1/nqn.2019-05.io.javastor:" + UUID.randomUUID()).build()));
        fails(Status.Code.INVALID_ARGUMENT, "fs_type", () -> csi.node().nodeStageVolume(ok.toBuilder().setVolumeCapability(Caps.mount("ntfs")).build()));
        fails(Status.Code.INVALID_ARGUMENT, "volume_context.ioTimeout", () -> csi.node().nodeStageVolume(ok.toBuilder()
                .putVolumeContext("ioTimeout", "soon").build()));
    }

    @Test
    void publishAndOthersValidateTheirArguments() {
        NodePublishVolumeRequest ok = NodePublishVolumeRequest.newBuilder().setVolumeId(VOLUME)
                .setStagingTargetPath(tmp.resolve("staging").toString()).setTargetPath(tmp.resolve("target").toString())
                .setVolumeCapability(Caps.mount("ext4")).build();
        fails(Status.Code.INVALID_ARGUMENT, "target_path", () -> csi.node().nodePublishVolume(ok.toBuilder().clearTargetPath().build()));
        fails(Status.Code.INVALID_ARGUMENT, "staging_target_path", () -> csi.node().nodePublishVolume(ok.toBuilder().clearStagingTargetPath().build()));
        fails(Status.Code.INVALID_ARGUMENT, "volume_id", () -> csi.node().nodePublishVolume(ok.toBuilder().clearVolumeId().build()));
        fails(Status.Code.FAILED_PRECONDITION, "not staged", () -> csi.node().nodePublishVolume(ok));
        fails(Status.Code.INVALID_ARGUMENT, "target_path", () -> csi.node().nodeUnpublishVolume(NodeUnpublishVolumeRequest.newBuilder()
                .setVolumeId(VOLUME).setTargetPath("x").build()));
        fails(Status.Code.INVALID_ARGUMENT, "staging_target_path", () -> csi.node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder()
                .setVolumeId(VOLUME).build()));
        fails(Status.Code.INVALID_ARGUMENT, "volume_path", () -> csi.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder()
                .setVolumeId(VOLUME).build()));
        fails(Status.Code.INVALID_ARGUMENT, "volume_id", () -> csi.node().nodeExpandVolume(NodeExpandVolumeRequest.newBuilder()
                .setVolumePath("/x").build()));
    }

    @Test
    void whatIsNotThereIsUnpublishedAndUnstagedIdempotentlyAndHasNoStats() throws Exception {
        Path target = tmp.resolve("never-published");
        csi.node().nodeUnpublishVolume(NodeUnpublishVolumeRequest.newBuilder().setVolumeId(VOLUME).setTargetPath(target.toString()).build());
        Path leftover = Files.createDirectories(tmp.resolve("empty-target"));
        csi.node().nodeUnpublishVolume(NodeUnpublishVolumeRequest.newBuilder().setVolumeId(VOLUME).setTargetPath(leftover.toString()).build());
        assertThat(leftover).as("the unmounted target directory is removed").doesNotExist();
        csi.node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId(VOLUME)
                .setStagingTargetPath(tmp.resolve("never-staged").toString()).build());
        fails(Status.Code.NOT_FOUND, "does not exist", () -> csi.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder()
                .setVolumeId(VOLUME).setVolumePath(target.toString()).build()));
        // csi-sanity's "volume is not found": a relative path is no volume of this node either (the spec: NOT_FOUND).
        fails(Status.Code.NOT_FOUND, "does not exist", () -> csi.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder()
                .setVolumeId("id").setVolumePath("some/path").build()));
        fails(Status.Code.NOT_FOUND, "not published or staged", () -> csi.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder()
                .setVolumeId(VOLUME).setVolumePath(Files.createDirectories(tmp.resolve("plain-dir")).toString()).build()));
        fails(Status.Code.NOT_FOUND, "does not exist", () -> csi.node().nodeExpandVolume(NodeExpandVolumeRequest.newBuilder()
                .setVolumeId(VOLUME).setVolumePath(target.toString()).build()));
    }
}
