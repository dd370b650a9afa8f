package io.javastor.core.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.Replica;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.testsupport.DrivenReconcilers;
import io.javastor.core.volume.VolumeSpec;

/**
 * {@link VolumeSpecRecovery}, driven step by step: a volume left Creating (its caller never got an answer and retries
 * its idempotent create) is rolled back, one left Deleting is finished; either way nothing of it stays on the nodes.
 */
class VolumeSpecRecoveryTest {

    @RegisterExtension
    static final DrivenReconcilers driven = new DrivenReconcilers();

    private static final long MIB = 1 << 20;

    /** A 2-replica volume whose spec is then put in {@code left}, as a crash in the middle of its operation leaves it. */
    private static List<Replica> volumeLeft(String uuid, OperationStatus left) {
        List<Replica> replicas = VolumeServiceGrpc.newBlockingStub(driven.cluster().agent().channel()).createVolume(
                CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(4 * MIB).setReplicaCount(2).build()).getReplicasList();
        SpecStore specs = driven.cluster().specs();
        var spec = specs.get(VolumeSpec.KIND, uuid).orElseThrow();
        specs.update(VolumeSpec.KIND, spec, spec.spec().with(left));
        return replicas;
    }

    private static void assertGoneEverywhere(String uuid, List<Replica> replicas) {
        SpecStore specs = driven.cluster().specs();
        assertThat(specs.get(VolumeSpec.KIND, uuid)).as("the volume's spec").isEmpty();
        assertThat(specs.list(ReplicaSpec.KIND)).as("its replicas' specs").noneMatch(r -> r.spec().volumeId().equals(uuid));
        for (Replica r : replicas) {
            assertThat(driven.replicaOnNode(r.getNodeId(), r.getUuid())).as("replica %s on %s", r.getUuid(), r.getNodeId()).isFalse();
        }
    }

    @Test
    void aVolumeLeftCreatingIsRolledBack() {
        String uuid = UUID.randomUUID().toString();
        List<Replica> replicas = volumeLeft(uuid, OperationStatus.CREATING);
        VolumeSpecRecovery recovery = driven.reconciler(VolumeSpecRecovery.class);
        // The agent's store may see the change a moment after this test's wrote it.
        await("volume rolled back").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> recovery.reconcile() == ReconcileOutcome.IDLE && driven.cluster().specs().get(VolumeSpec.KIND, uuid).isEmpty());
        assertGoneEverywhere(uuid, replicas);
        assertThat(recovery.reconcile()).as("nothing left half-done").isEqualTo(ReconcileOutcome.IDLE);
    }

    @Test
    void aVolumeLeftDeletingIsFinished() {
        String uuid = UUID.randomUUID().toString();
        List<Replica> replicas = volumeLeft(uuid, OperationStatus.DELETING);
        VolumeSpecRecovery recovery = driven.reconciler(VolumeSpecRecovery.class);
        await("volume destroyed").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> recovery.reconcile() == ReconcileOutcome.IDLE && driven.cluster().specs().get(VolumeSpec.KIND, uuid).isEmpty());
        assertGoneEverywhere(uuid, replicas);
    }
}
