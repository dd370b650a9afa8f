package io.javastor.core.nexus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.PublishVolumeRequest;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.core.reconcile.MissingNexusRecreator;
import io.javastor.core.reconcile.NexusSpecRecovery;
import io.javastor.core.reconcile.ReconcileOutcome;
import io.javastor.core.reconcile.StaleTargetCollector;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.testsupport.AppHost;
import io.javastor.core.testsupport.DrivenReconcilers;
import io.javastor.testsupport.IoEngineProcess;

/**
 * A target move whose new node does not make the target (it is frozen here: Online on record, answering nothing) must
 * not leave the volume without one: the target is the old one again on record, made again on its node, at the same
 * address, and spec recovery leaves it alone. Before, the spec stayed Creating on the new node and spec recovery then
 * removed it: a published volume with no target.
 */
class TargetMoveFailureTest {

    @RegisterExtension
    static final DrivenReconcilers driven = new DrivenReconcilers();

    private static final long MIB = 1 << 20;

    private static NexusSpec target(String uuid) {
        return driven.cluster().specs().get(NexusSpec.KIND, uuid).orElseThrow().spec();
    }

    @Test
    void aMoveTheNewNodeDoesNotMakeLeavesTheTargetWhereItWas() throws Exception {
        var volumes = VolumeServiceGrpc.newBlockingStub(driven.cluster().agent().channel());
        String uuid = UUID.randomUUID().toString();
        String home = volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(4 * MIB).setReplicaCount(1).build())
                .getReplicas(0).getNodeId();
        String away = home.equals("node-1") ? "node-2" : "node-1";
        String uri = volumes.publishVolume(AppHost.TEST_HOST.publish(uuid).setPreferredNodeId(home).build()).getTarget().getUri();

        IoEngineProcess awayEngine = driven.cluster().node(away);
        awayEngine.freeze();
        try {
            assertThatThrownBy(() -> volumes.publishVolume(PublishVolumeRequest.newBuilder().setUuid(uuid).setPreferredNodeId(away)
                    .setRepublish(true).build())).as("the move to a node that does not answer").isInstanceOf(StatusRuntimeException.class);
            NexusSpec after = target(uuid);
            assertThat(after.nodeId()).as("the target is its old one on record").isEqualTo(home);
            assertThat(after.operation()).isEqualTo(OperationStatus.CREATED);
            assertThat(after.uri()).isEqualTo(uri);
            assertThat(driven.nexusOnNode(home, uuid)).as("the old target was shut down before the move").isFalse();
            assertThat(driven.events(uuid, "TargetMoveFailed")).isEqualTo(1);
        } finally {
            awayEngine.thaw();
        }

        assertThat(driven.reconciler(NexusSpecRecovery.class).reconcile()).as("nothing left half-done").isEqualTo(ReconcileOutcome.IDLE);
        MissingNexusRecreator recreator = driven.reconciler(MissingNexusRecreator.class);
        await("target made again on its node").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .until(() -> recreator.reconcile() == ReconcileOutcome.IDLE && driven.nexusOnNode(home, uuid));
        assertThat(target(uuid).uri()).as("at the same address").isEqualTo(uri);
        assertThat(target(uuid).nodeId()).isEqualTo(home);
        // What the frozen node made once it thawed (the create it was sent) is a stale target there.
        StaleTargetCollector stale = driven.reconciler(StaleTargetCollector.class);
        await("nothing of the volume on " + away).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .until(() -> stale.reconcile() == ReconcileOutcome.IDLE && !driven.nexusOnNode(away, uuid));
        assertThat(driven.nexusOnNode(home, uuid)).isTrue();

        volumes.destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }
}
