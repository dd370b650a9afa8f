package io.javastor.core.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.Volume;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.ioengine.v1.CreateNexusRequest;
import io.javastor.api.ioengine.v1.CreateReplicaRequest;
import io.javastor.api.ioengine.v1.DestroyNexusRequest;
import io.javastor.api.ioengine.v1.DestroyReplicaRequest;
import io.javastor.core.testsupport.AppHost;
import io.javastor.core.testsupport.DrivenReconcilers;
import io.javastor.core.testsupport.TestCluster;
import io.javastor.testsupport.IoEngineStubs;

/**
 * {@link StaleTargetCollector}, driven step by step: a volume's old target still running on another Online node (its
 * target moved while that node was cut off) is destroyed; the current target and nexuses outside volumes are not.
 */
class StaleTargetCollectorTest {

    @RegisterExtension
    static final DrivenReconcilers driven = new DrivenReconcilers();

    private static final long MIB = 1 << 20;

    /** A nexus named {@code uuid} on {@code node} over a replica of its own there, made behind the agent's back. */
    private static String nexusBehindTheAgentsBack(IoEngineStubs engine, String node, String uuid) {
        String replica = UUID.randomUUID().toString();
        engine.replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(replica).setPool(TestCluster.poolOf(node))
                .setSize(4 * MIB).build());
        engine.nexuses().createNexus(CreateNexusRequest.newBuilder().setUuid(uuid).setSize(4 * MIB).addChildren("bdev:///" + replica).build());
        return replica;
    }

    @Test
    void anOldTargetOnAnotherOnlineNodeIsDestroyedAndTheCurrentOneAndOthersAreKept() {
        var volumes = VolumeServiceGrpc.newBlockingStub(driven.cluster().agent().channel());
        String uuid = UUID.randomUUID().toString();
        volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(4 * MIB).setReplicaCount(1).build());
        Volume published = volumes.publishVolume(AppHost.TEST_HOST.publish(uuid).setPreferredNodeId("node-1").build());
        String targetNode = published.getTarget().getNodeId();
        String oldNode = targetNode.equals("node-1") ? "node-2" : "node-1";
        IoEngineStubs old = driven.cluster().node(oldNode).api();
        String oldReplica = nexusBehindTheAgentsBack(old, oldNode, uuid);
        String notAVolume = UUID.randomUUID().toString();
        String itsReplica = nexusBehindTheAgentsBack(old, oldNode, notAVolume);
        await("inventory shows both nexuses").atMost(Duration.ofSeconds(30))
                .until(() -> driven.inventoryHasNexus(oldNode, uuid) && driven.inventoryHasNexus(oldNode, notAVolume));

        StaleTargetCollector collector = driven.reconciler(StaleTargetCollector.class);
        await("old target destroyed").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> collector.reconcile() == ReconcileOutcome.IDLE && !driven.nexusOnNode(oldNode, uuid));
        assertThat(driven.nexusOnNode(targetNode, uuid)).as("the current target").isTrue();
        assertThat(driven.nexusOnNode(oldNode, notAVolume)).as("a nexus outside volumes is its user's").isTrue();
        assertThat(driven.events(uuid, "StaleTargetDestroyed")).isEqualTo(1);
        assertThat(collector.reconcile()).as("nothing left to do").isEqualTo(ReconcileOutcome.IDLE);

        old.nexuses().destroyNexus(DestroyNexusRequest.newBuilder().setUuid(notAVolume).build());
        old.replicas().destroyReplica(DestroyReplicaRequest.newBuilder().setUuid(itsReplica).build());
        old.replicas().destroyReplica(DestroyReplicaRequest.newBuilder().setUuid(oldReplica).build());
        volumes.destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }
}
