package io.javastor.core.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.Replica;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;
import io.javastor.core.testsupport.AppHost;
import io.javastor.core.testsupport.DrivenReconcilers;

/**
 * {@link LostReplicaReplacer}, driven step by step on two nodes: a published volume's replica on a node that goes
 * Offline leaves the target and is retired once; with no other node to place its replacement on, the volume stays
 * short (and the pass is not busy: no busy loop on a full cluster); when a node has room again the replacement is placed,
 * added to the target once, and a further pass does nothing.
 */
class LostReplicaReplacerTest {

    @RegisterExtension
    static final DrivenReconcilers driven = new DrivenReconcilers();

    private static final long MIB = 1 << 20;

    private static List<String> children(String uuid) {
        return driven.cluster().specs().get(NexusSpec.KIND, uuid).orElseThrow().spec().children().stream()
                .map(NexusSpec.Child::replicaUuid).toList();
    }

    private static List<ReplicaSpec> replicasOf(String uuid) {
        return driven.cluster().specs().list(ReplicaSpec.KIND).stream().map(Versioned::spec).filter(r -> r.volumeId().equals(uuid)).toList();
    }

    @Test
    void aReplicaOnAnOfflineNodeIsRetiredAndReplacedOnceThereIsRoom() throws Exception {
        var volumes = VolumeServiceGrpc.newBlockingStub(driven.cluster().agent().channel());
        SpecStore specs = driven.cluster().specs();
        String uuid = UUID.randomUUID().toString();
        List<Replica> created = volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(4 * MIB).setReplicaCount(2)
                .build()).getReplicasList();
        Replica onLostNode = created.get(0);
        Replica kept = created.get(1);
        String lostNode = onLostNode.getNodeId();
        volumes.publishVolume(AppHost.TEST_HOST.publish(uuid).setPreferredNodeId(kept.getNodeId()).build());
        LostReplicaReplacer replacer = driven.reconciler(LostReplicaReplacer.class);
        assertThat(replacer.reconcile()).as("every node Online, every replica there").isEqualTo(ReconcileOutcome.IDLE);
        assertThat(children(uuid)).containsExactlyInAnyOrder(onLostNode.getUuid(), kept.getUuid());

        try (var frozen = driven.offline(lostNode)) {
            assertThat(replacer.reconcile()).as("no room for a replacement is not busy").isEqualTo(ReconcileOutcome.IDLE);
            assertThat(children(uuid)).as("the lost replica left the target").containsExactly(kept.getUuid());
            assertThat(specs.get(ReplicaSpec.KIND, onLostNode.getUuid()).orElseThrow().spec().operation())
                    .as("retired, waiting for its node to be destroyed").isEqualTo(OperationStatus.DELETING);
            assertThat(replicasOf(uuid)).as("no replacement: the only other node holds the volume already").hasSize(2);
            assertThat(replacer.reconcile()).as("second pass while short").isEqualTo(ReconcileOutcome.IDLE);
            assertThat(driven.events(onLostNode.getUuid(), "ReplicaLost")).as("retired once").isEqualTo(1);
            assertThat(driven.events(uuid, "ReplicaReplaced")).isZero();
        }

        // The node is back with room: the volume, still short, gets its replacement there (a new replica, rebuilt by the target).
        assertThat(replacer.reconcile()).isEqualTo(ReconcileOutcome.IDLE);
        List<ReplicaSpec> now = replicasOf(uuid).stream().filter(r -> r.operation() == OperationStatus.CREATED).toList();
        assertThat(now).hasSize(2);
        ReplicaSpec replacement = now.stream().filter(r -> !r.uuid().equals(kept.getUuid())).findFirst().orElseThrow();
        assertThat(replacement.uuid()).as("a new replica, not the lost one re-made").isNotEqualTo(onLostNode.getUuid());
        assertThat(replacement.nodeId()).isEqualTo(lostNode);
        assertThat(children(uuid)).containsExactlyInAnyOrder(kept.getUuid(), replacement.uuid());
        assertThat(replacer.reconcile()).as("a further pass").isEqualTo(ReconcileOutcome.IDLE);
        assertThat(driven.events(uuid, "ReplicaReplaced")).as("replaced once").isEqualTo(1);
        assertThat(driven.events(onLostNode.getUuid(), "ReplicaLost")).isEqualTo(1);

        volumes.destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
        // The retired replica waited Deleting for its node; the shared cluster is left without it.
        ReplicaSpecRecovery recovery = driven.reconciler(ReplicaSpecRecovery.class);
        await("retired replica destroyed").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> recovery.reconcile() == ReconcileOutcome.IDLE && replicasOf(uuid).isEmpty());
        assertThat(driven.replicaOnNode(lostNode, onLostNode.getUuid())).as("destroyed on its node").isFalse();
    }
}
