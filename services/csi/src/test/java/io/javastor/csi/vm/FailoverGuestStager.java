package io.javastor.csi.vm;

import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import csi.v1.Csi.NodeGetInfoRequest;
import csi.v1.Csi.NodePublishVolumeRequest;
import csi.v1.Csi.NodeStageVolumeRequest;
import csi.v1.Csi.VolumeCapability;
import io.javastor.csi.support.Caps;
import io.javastor.csi.support.CsiClient;

/**
 * Runs INSIDE the Linux VM beside the node plugin (its path agent on): stages and publishes a volume as a raw block
 * device, the way the kubelet would for a pod, and writes the published device's path to device.txt in the shared
 * folder for the guest script's fio.
 * Args: socket share volumeUri volumeId
 */
public final class FailoverGuestStager {
    private FailoverGuestStager() {
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        Path share = Path.of(args[1]);
        String uri = args[2];
        String vol = args[3];
        try (CsiClient csi = new CsiClient(socket, 240)) {
            await("node plugin answers").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                    .until(() -> csi.node().nodeGetInfo(NodeGetInfoRequest.getDefaultInstance()).getNodeId().equals(FailoverVmTest.VM_NODE));
            Path staging = Files.createDirectories(Path.of("/run/csi/staging-block", vol));
            Path target = Files.createDirectories(Path.of("/run/csi/pods/pod-failover/volumeDevices")).resolve("disk");
            VolumeCapability cap = Caps.block();
            csi.node().nodeStageVolume(NodeStageVolumeRequest.newBuilder().setVolumeId(vol).putPublishContext("uri", uri)
                    .putVolumeContext("ioTimeout", "30").setStagingTargetPath(staging.toString()).setVolumeCapability(cap).build());
            csi.node().nodePublishVolume(NodePublishVolumeRequest.newBuilder().setVolumeId(vol).putPublishContext("uri", uri)
                    .putVolumeContext("ioTimeout", "30").setStagingTargetPath(staging.toString()).setTargetPath(target.toString())
                    .setVolumeCapability(cap).build());
            Files.writeString(share.resolve("device.txt"), target.toString());
        }
        System.exit(0);
    }
}
