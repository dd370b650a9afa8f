package io.javastor.core.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.GetRebuildHistoryRequest;
import io.javastor.api.core.v1.PublishVolumeRequest;
import io.javastor.api.core.v1.RebuildHistory;
import io.javastor.api.core.v1.RebuildRecord;
import io.javastor.api.core.v1.RebuildState;
import io.javastor.api.core.v1.Volume;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.ioengine.v1.FaultNexusChildRequest;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.core.testsupport.PostgresExtension;
import io.javastor.core.testsupport.AppHost;
import io.javastor.core.testsupport.TestCluster;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;

/**
 * The rebuild history is the agent's (its database), not the target io-engine's memory: it is still served after
 * the agent restarts and while the target's node is down. Real agent on PostgreSQL, etcd, two io-engines.
 */
class RebuildHistoryTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();
    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    private static final int MIB = 1 << 20;
    private static final int VOLUME = 8 * MIB;
    private static final int BLOCK = 64 * 1024;
    private static final String HOST = "nqn.2019-05.io.javastor:test-host";
    private static TestCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = TestCluster.start(etcd.endpoint(), new TestCluster.Settings("rebuild-history", "agent-rebuild-history", Map.of(
                "javastor.core.nodes.heartbeat-timeout", "120s", "javastor.core.nodes.state-poll-interval", "500ms",
                // Generous node calls: the machine is small and shared; a slow answer is not what these tests are about.
                "javastor.core.nodes.call-timeout", "10s",
                "spring.datasource.url", postgres.jdbcUrl(), "spring.datasource.username", postgres.username()), 2, 64, Map.of()));
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static VolumeServiceGrpc.VolumeServiceBlockingStub volumes() {
        return VolumeServiceGrpc.newBlockingStub(cluster.agent().channel()).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private static RebuildHistory history(String uuid) {
        return volumes().getRebuildHistory(GetRebuildHistoryRequest.newBuilder().setUuid(uuid).build());
    }

    private static void write(NvmfBlockDevice dev, long seed, int from, int to) throws Exception {
        Random random = new Random(seed);
        for (int off = from; off < to; off += BLOCK) {
            byte[] b = new byte[BLOCK];
            random.nextBytes(b);
            ByteBuffer buf = DmaBuffers.allocate(BLOCK);
            buf.put(b).flip();
            dev.write(off, buf).get(120, TimeUnit.SECONDS);
        }
        dev.flush().get(120, TimeUnit.SECONDS);
    }

    @Test
    void aFinishedRebuildIsServedAfterTheAgentRestartsAndWhileTheTargetNodeIsDown() throws Exception {
        String uuid = UUID.randomUUID().toString();
        Volume created = volumes().createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(VOLUME).setReplicaCount(2).build());
        Volume published = volumes().publishVolume(new AppHost(HOST).publish(uuid)
                .setPreferredNodeId(created.getReplicas(0).getNodeId()).build());
        String targetNode = published.getTarget().getNodeId();
        NexusSpec.Child remote = cluster.specs().get(NexusSpec.KIND, uuid).orElseThrow().spec().children().stream()
                .filter(NexusSpec.Child::shared).findFirst().orElseThrow();
        assertThat(history(uuid).getRecordsList()).as("no rebuild yet").isEmpty();

        try (NvmfBlockDevice dev = new AppHost(HOST).connect(cluster.agent(), published.getTarget().getUri())) {
            write(dev, 1, 0, VOLUME);
            cluster.node(targetNode).api().nexuses().faultNexusChild(FaultNexusChildRequest.newBuilder().setUuid(uuid).setUri(remote.uri())
                    .setReason("test: transient I/O error").build());
            write(dev, 2, 0, VOLUME / 4);
        }
        // The healer adds the child back; its rebuild ends and the target says so; the agent copies the record.
        await("rebuild recorded").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).until(() ->
                history(uuid).getRecordsList().stream().anyMatch(r -> r.getChildUri().equals(remote.uri())
                        && r.getState() == RebuildState.REBUILD_STATE_COMPLETED));
        RebuildHistory before = history(uuid);
        assertThat(before.getNodeId()).isEqualTo(targetNode);
        List<RebuildRecord> completed = before.getRecordsList().stream().filter(r -> r.getState() == RebuildState.REBUILD_STATE_COMPLETED).toList();
        assertThat(completed).hasSize(1);
        RebuildRecord record = completed.get(0);
        assertThat(record.getBlocksTotal()).isPositive();
        assertThat(record.getBlocksRecovered()).isEqualTo(record.getBlocksTotal());
        assertThat(record.hasEndTime()).isTrue();
        assertThat(record.getEndTime().getSeconds() * 1000 + record.getEndTime().getNanos() / 1_000_000)
                .isGreaterThanOrEqualTo(record.getStartTime().getSeconds() * 1000 + record.getStartTime().getNanos() / 1_000_000);
        assertThat(record.getSourceUri()).isNotEmpty().isNotEqualTo(remote.uri());

        cluster.restartAgent();
        assertThat(history(uuid).getRecordsList()).as("after the agent restarted").isEqualTo(before.getRecordsList());

        // The target's io-engine (which kept the history in memory) is dead (kill9 waits for the process to end): the
        // agent still serves what it recorded. Asking the target, as before, would fail here.
        cluster.node(targetNode).kill9();
        assertThat(history(uuid).getRecordsList()).as("with the target's node down").isEqualTo(before.getRecordsList());
    }
}
