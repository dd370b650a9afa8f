package io.javastor.core.testsupport;

import java.util.concurrent.TimeUnit;

import io.javastor.api.core.v1.GetHostSecretsRequest;
import io.javastor.api.core.v1.HostSecrets;
import io.javastor.api.core.v1.PublishVolumeRequest;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.ioengine.nvmf.auth.DhchapKeys;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import io.javastor.testsupport.BlockPattern;

/**
 * An application host that volumes are published to. It connects as the CSI node plugin does: with the DH-HMAC-CHAP
 * pair the agent hands to a {@code csi-node} certificate for this host and volume (the volume's target requires it).
 */
public record AppHost(String nqn) {
    private static final String VOLUME_NQN_PREFIX = "nqn.2019-05.io.javastor:";
    public static final AppHost TEST_HOST = new AppHost("nqn.2019-05.io.javastor:node-name:test-host");

    /** A publish request naming this host (a volume is never published to every host). */
    public PublishVolumeRequest.Builder publish(String volumeUuid) {
        return PublishVolumeRequest.newBuilder().setUuid(volumeUuid).addAllowedHosts(nqn);
    }

    /** This host's options for the volume's target: its NQN and its pair, both ways. */
    public NvmfHostOptions options(RunningAgent agent, String volumeUuid) {
        HostSecrets s = VolumeServiceGrpc.newBlockingStub(agent.channelAs(ClusterPeer.CSI_NODE)).withDeadlineAfter(30, TimeUnit.SECONDS)
                .getHostSecrets(GetHostSecretsRequest.newBuilder().setUuid(volumeUuid).setHostNqn(nqn).build());
        return NvmfHostOptions.defaults(nqn).withDhchap(DhchapKeys.parse(s.getHostSecret(), s.getControllerSecret()));
    }

    /** Connects to a volume's target URI (its NQN names the volume: nvmf://host:port/nqn.2019-05.io.javastor:UUID). */
    public NvmfBlockDevice connect(RunningAgent agent, String uri) {
        return NvmfBlockDevice.connect(uri, options(agent, volumeOf(uri)));
    }

    /** A connected device as the test data helpers take it. */
    public static BlockPattern.Device blocks(NvmfBlockDevice dev) {
        return BlockPattern.Device.of(dev::read, dev::write, dev::flush);
    }

    public static String volumeOf(String uri) {
        int at = uri.lastIndexOf(VOLUME_NQN_PREFIX);
        if (at < 0) {
            throw new IllegalArgumentException("not a volume target's URI: " + uri);
        }
        return uri.substring(at + VOLUME_NQN_PREFIX.length());
    }
}
