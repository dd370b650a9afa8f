package io.javastor.core.nvmeauth;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.GetHostSecretsRequest;
import io.javastor.api.core.v1.HostSecrets;
import io.javastor.api.core.v1.PublishVolumeRequest;
import io.javastor.api.core.v1.Replica;
import io.javastor.api.core.v1.Volume;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.ioengine.v1.ListNexusRequest;
import io.javastor.api.ioengine.v1.ChildState;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.node.NodeSpec;
import io.javastor.core.testsupport.AppHost;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.core.testsupport.TestCluster;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.nvmf.auth.DhchapKeys;
import io.javastor.ioengine.nvmf.auth.DhchapSecret;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * NVMe in-band authentication (DH-HMAC-CHAP, issue 16) of the cluster's connections. The link from a volume's target
 * to its replica on another node authenticates both ways: the volume works through it, and whoever else asserts the
 * target node's NQN — without the link's secret, or with another — is refused by the replica's share. A volume's
 * target admits the host it is published to only with that host's secrets, which only a CSI node plugin gets from the
 * agent. Real agent, etcd, two io-engine processes, NVMe/TCP.
 */
class ReplicaLinkAuthenticationTest {
    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    static final int VOLUME = 4 << 20;
    static TestCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = TestCluster.start(etcd.endpoint(), new TestCluster.Settings("link-auth", "agent-link-auth", Map.of(), 2, 64, Map.of()));
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void theTargetReachesItsRemoteReplicaWithTheNvmeSecretsAndNobodyElseDoes() throws Exception {
        var volumes = VolumeServiceGrpc.newBlockingStub(cluster.agent().channel());
        String uuid = UUID.randomUUID().toString();
        Volume created = volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(VOLUME).setReplicaCount(2).build());
        String targetNode = created.getReplicasList().stream().map(Replica::getNodeId).findFirst().orElseThrow();
        String uri = volumes.publishVolume(AppHost.TEST_HOST.publish(uuid).setPreferredNodeId(targetNode).build())
                .getTarget().getUri();

        try (NvmfBlockDevice dev = AppHost.TEST_HOST.connect(cluster.agent(), uri)) {
            ByteBuffer out = DmaBuffers.allocate(65536);
            while (out.hasRemaining()) {
                out.put((byte) 0x6B);
            }
            dev.write(0, out.flip()).get(60, TimeUnit.SECONDS);
            dev.flush().get(60, TimeUnit.SECONDS);
        }
        await("both children Online, the remote one through the authenticated link").atMost(java.time.Duration.ofSeconds(60))
                .until(() -> cluster.node(targetNode).api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(uuid).build())
                        .getNexusList(0).getChildrenList(), c -> c.size() == 2 && c.stream().allMatch(x -> x.getState() == ChildState.CHILD_STATE_ONLINE));

        NexusSpec.Child remote = cluster.specs().get(NexusSpec.KIND, uuid).orElseThrow().spec().children().stream()
                .filter(NexusSpec.Child::shared).findFirst().orElseThrow();
        String targetNqn = cluster.specs().get(NodeSpec.KIND, targetNode).orElseThrow().spec().nodeNqn();
        NvmfHostOptions impostor = NvmfHostOptions.defaults(targetNqn).withReconnectDeadline(java.time.Duration.ofSeconds(1));
        assertThatThrownBy(() -> NvmfBlockDevice.connect(remote.uri(), impostor))
                .isInstanceOfSatisfying(BlockIoException.class, e -> assertThat(e.errno()).isEqualTo(BlockIoException.EACCES))
                .hasMessageContaining("requires in-band authentication");
        DhchapKeys guessed = new DhchapKeys(DhchapSecret.generate(new SecureRandom()), null);
        assertThatThrownBy(() -> NvmfBlockDevice.connect(remote.uri(), impostor.withDhchap(guessed)))
                .isInstanceOfSatisfying(BlockIoException.class, e -> assertThat(e.errno()).isEqualTo(BlockIoException.EACCES))
                .hasMessageContaining("wrong or missing secret");
        // Another node's link secret for the same replica is no good either: each link has its own.
        var otherLink = new NvmeSecrets(cluster.etcdClient().getKVClient(), "link-auth", 5000, true, true)
                .forLink(remote.replicaUuid(), "nqn.2019-05.io.javastor:node-name:elsewhere");
        assertThatThrownBy(() -> NvmfBlockDevice.connect(remote.uri(), impostor.withDhchap(DhchapKeys.parse(otherLink.getHostSecret(), null))))
                .isInstanceOf(BlockIoException.class).hasMessageContaining("wrong or missing secret");

        var nexus = cluster.node(targetNode).api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(uuid).build()).getNexusList(0);
        assertThat(nexus.getChildrenList()).as("the refused attempts did not disturb the target").hasSize(2)
                .allMatch(c -> c.getState() == ChildState.CHILD_STATE_ONLINE);
    }

    @Test
    void aVolumeTargetAdmitsTheHostItIsPublishedToOnlyWithThatHostsSecrets() throws Exception {
        var volumes = VolumeServiceGrpc.newBlockingStub(cluster.agent().channel());
        var csiNode = VolumeServiceGrpc.newBlockingStub(cluster.agent().channelAs(ClusterPeer.CSI_NODE));
        String host = "nqn.2019-05.io.javastor:node-name:app-host";
        String uuid = UUID.randomUUID().toString();
        volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(VOLUME).setReplicaCount(1).build());
        String uri = volumes.publishVolume(PublishVolumeRequest.newBuilder().setUuid(uuid).addAllowedHosts(host).build()).getTarget().getUri();
        GetHostSecretsRequest ask = GetHostSecretsRequest.newBuilder().setUuid(uuid).setHostNqn(host).build();

        HostSecrets secrets = csiNode.getHostSecrets(ask);
        assertThat(secrets.getHostSecret()).startsWith("DHHC-1:01:");
        assertThat(secrets.getControllerSecret()).startsWith("DHHC-1:01:").isNotEqualTo(secrets.getHostSecret());
        // Only CSI node plugins may ask (the REST gateway's certificate, which calls the rest of the API, may not), and
        // only for a host the volume is published to.
        assertThatThrownBy(() -> volumes.getHostSecrets(ask)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        assertThatThrownBy(() -> csiNode.getHostSecrets(ask.toBuilder().setHostNqn("nqn.2019-05.io.javastor:node-name:other").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED))
                .hasMessageContaining("not published to host");

        NvmfHostOptions plain = NvmfHostOptions.defaults(host).withReconnectDeadline(java.time.Duration.ofSeconds(1));
        assertThatThrownBy(() -> NvmfBlockDevice.connect(uri, plain))
                .isInstanceOfSatisfying(BlockIoException.class, e -> assertThat(e.errno()).isEqualTo(BlockIoException.EACCES))
                .hasMessageContaining("requires in-band authentication");
        DhchapKeys guessed = new DhchapKeys(DhchapSecret.generate(new SecureRandom()), null);
        assertThatThrownBy(() -> NvmfBlockDevice.connect(uri, plain.withDhchap(guessed)))
                .isInstanceOfSatisfying(BlockIoException.class, e -> assertThat(e.errno()).isEqualTo(BlockIoException.EACCES));
        // The same secrets under another host's NQN: not on the list.
        DhchapKeys keys = DhchapKeys.parse(secrets.getHostSecret(), secrets.getControllerSecret());
        assertThatThrownBy(() -> NvmfBlockDevice.connect(uri, NvmfHostOptions.defaults("nqn.2019-05.io.javastor:node-name:other")
                .withReconnectDeadline(java.time.Duration.ofSeconds(1)).withDhchap(keys))).isInstanceOf(BlockIoException.class);

        // The host with its secrets, checking the target's proof too: I/O works.
        try (NvmfBlockDevice dev = NvmfBlockDevice.connect(uri, plain.withDhchap(keys))) {
            ByteBuffer out = DmaBuffers.allocate(4096);
            while (out.hasRemaining()) {
                out.put((byte) 0x5A);
            }
            dev.write(0, out.flip()).get(60, TimeUnit.SECONDS);
            ByteBuffer in = DmaBuffers.allocate(4096);
            dev.read(0, in).get(60, TimeUnit.SECONDS);
            assertThat(in.get(0)).isEqualTo((byte) 0x5A);
            assertThat(in.get(4095)).isEqualTo((byte) 0x5A);
        }
    }

    /**
     * The REST API's low-level resources: a replica made outside volumes is shared to named hosts only, each with its
     * own pair; a nexus made outside volumes over it (on the node the replica is shared to) connects with the link's
     * pair by itself, and is shared to named hosts only, which connect with the pair GetHostSecrets gives them.
     */
    @Test
    void aNexusAndAReplicaMadeOutsideVolumesAreSharedOnlyToNamedHostsWhoAuthenticate() throws Exception {
        var replicas = io.javastor.api.core.v1.ReplicaServiceGrpc.newBlockingStub(cluster.agent().channel());
        var nexuses = io.javastor.api.core.v1.NexusServiceGrpc.newBlockingStub(cluster.agent().channel());
        var csiNode = VolumeServiceGrpc.newBlockingStub(cluster.agent().channelAs(ClusterPeer.CSI_NODE));
        String replicaNode = cluster.nodes().get(0).name();
        String nexusNode = cluster.nodes().get(1).name();
        String nexusNodeNqn = cluster.specs().get(NodeSpec.KIND, nexusNode).orElseThrow().spec().nodeNqn();
        String replica = UUID.randomUUID().toString();
        replicas.createReplica(io.javastor.api.core.v1.CreateReplicaRequest.newBuilder().setUuid(replica).setNodeId(replicaNode)
                .setPoolId(TestCluster.poolOf(replicaNode)).setSize(VOLUME).build());

        // Never to every host.
        assertThatThrownBy(() -> replicas.shareReplica(io.javastor.api.core.v1.ShareReplicaRequest.newBuilder().setUuid(replica).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT))
                .hasMessageContaining("allowed_hosts").hasMessageContaining("name the hosts");
        String replicaUri = replicas.shareReplica(io.javastor.api.core.v1.ShareReplicaRequest.newBuilder().setUuid(replica)
                .addAllowedHosts(nexusNodeNqn).build()).getUri();
        NvmfHostOptions asNexusNode = NvmfHostOptions.defaults(nexusNodeNqn).withReconnectDeadline(java.time.Duration.ofSeconds(1));
        assertThatThrownBy(() -> NvmfBlockDevice.connect(replicaUri, asNexusNode))
                .isInstanceOfSatisfying(BlockIoException.class, e -> assertThat(e.errno()).isEqualTo(BlockIoException.EACCES))
                .hasMessageContaining("requires in-band authentication");
        // A host connected by hand asks for its pair, as for a volume.
        HostSecrets replicaPair = csiNode.getHostSecrets(GetHostSecretsRequest.newBuilder().setUuid(replica).setHostNqn(nexusNodeNqn).build());
        try (NvmfBlockDevice dev = NvmfBlockDevice.connect(replicaUri, asNexusNode.withDhchap(
                DhchapKeys.parse(replicaPair.getHostSecret(), replicaPair.getControllerSecret())))) {
            assertThat(dev.size()).isGreaterThanOrEqualTo(VOLUME);
        }
        assertThatThrownBy(() -> csiNode.getHostSecrets(GetHostSecretsRequest.newBuilder().setUuid(replica)
                .setHostNqn("nqn.2019-05.io.javastor:node-name:other").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED))
                .hasMessageContaining("not shared to host");

        // The nexus over it authenticates to it by itself, and is shared to the named host only.
        String nexus = UUID.randomUUID().toString();
        nexuses.createNexus(io.javastor.api.core.v1.CreateNexusRequest.newBuilder().setUuid(nexus).setNodeId(nexusNode).setSize(VOLUME)
                .addChildren(replicaUri).build());
        assertThatThrownBy(() -> nexuses.shareNexus(io.javastor.api.core.v1.ShareNexusRequest.newBuilder().setUuid(nexus).setNodeId(nexusNode).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT))
                .hasMessageContaining("allowed_hosts");
        String host = "nqn.2019-05.io.javastor:node-name:app-host-2";
        String nexusUri = nexuses.shareNexus(io.javastor.api.core.v1.ShareNexusRequest.newBuilder().setUuid(nexus).setNodeId(nexusNode)
                .addAllowedHosts(host).build()).getDeviceUri();
        NvmfHostOptions plain = NvmfHostOptions.defaults(host).withReconnectDeadline(java.time.Duration.ofSeconds(1));
        assertThatThrownBy(() -> NvmfBlockDevice.connect(nexusUri, plain))
                .isInstanceOfSatisfying(BlockIoException.class, e -> assertThat(e.errno()).isEqualTo(BlockIoException.EACCES))
                .hasMessageContaining("requires in-band authentication");
        HostSecrets pair = csiNode.getHostSecrets(GetHostSecretsRequest.newBuilder().setUuid(nexus).setHostNqn(host).build());
        ByteBuffer out = DmaBuffers.allocate(65536);
        while (out.hasRemaining()) {
            out.put((byte) 0x3C);
        }
        try (NvmfBlockDevice dev = NvmfBlockDevice.connect(nexusUri, plain.withDhchap(DhchapKeys.parse(pair.getHostSecret(), pair.getControllerSecret())))) {
            dev.write(0, out.flip()).get(60, TimeUnit.SECONDS);
            dev.flush().get(60, TimeUnit.SECONDS);
            ByteBuffer in = DmaBuffers.allocate(65536);
            dev.read(0, in).get(60, TimeUnit.SECONDS);
            assertThat(in.clear()).isEqualTo(out.rewind()); // read fills the whole buffer, position untouched
        }
        assertThatThrownBy(() -> csiNode.getHostSecrets(GetHostSecretsRequest.newBuilder().setUuid(nexus)
                .setHostNqn("nqn.2019-05.io.javastor:node-name:other").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED))
                .hasMessageContaining("nexus " + nexus + " is not shared to host");
        nexuses.destroyNexus(io.javastor.api.core.v1.DestroyNexusRequest.newBuilder().setUuid(nexus).setNodeId(nexusNode).build());
    }
}
