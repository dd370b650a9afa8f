package io.javastor.core.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.Replica;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.testsupport.DrivenReconcilers;

/**
 * {@link ReplicaSpecRecovery}, driven step by step: a replica left Deleting (a destroy cut short after its spec was
 * marked) is destroyed on its node and its spec removed, once; the volume's other replica is not touched.
 */
class ReplicaSpecRecoveryTest {

    @RegisterExtension
    static final DrivenReconcilers driven = new DrivenReconcilers();

    private static final long MIB = 1 << 20;

    private static boolean onNode(Replica r) {
        return driven.replicaOnNode(r.getNodeId(), r.getUuid());
    }

    @Test
    void aReplicaLeftDeletingIsDestroyedOnItsNodeAndItsSpecRemoved() {
        var volumes = VolumeServiceGrpc.newBlockingStub(driven.cluster().agent().channel());
        String uuid = UUID.randomUUID().toString();
        var replicas = volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(4 * MIB).setReplicaCount(2).build())
                .getReplicasList();
        Replica leftDeleting = replicas.get(0);
        Replica other = replicas.get(1);
        SpecStore specs = driven.cluster().specs();
        var spec = specs.get(ReplicaSpec.KIND, leftDeleting.getUuid()).orElseThrow();
        specs.update(ReplicaSpec.KIND, spec, spec.spec().with(OperationStatus.DELETING));

        ReplicaSpecRecovery recovery = driven.reconciler(ReplicaSpecRecovery.class);
        // The agent's store may see the mark a moment after this test's wrote it.
        await("replica left Deleting destroyed").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> recovery.reconcile() == ReconcileOutcome.IDLE && specs.get(ReplicaSpec.KIND, leftDeleting.getUuid()).isEmpty());
        assertThat(onNode(leftDeleting)).as("destroyed on its node").isFalse();
        assertThat(onNode(other)).as("the other replica").isTrue();
        assertThat(specs.get(ReplicaSpec.KIND, other.getUuid()).orElseThrow().spec().operation()).isEqualTo(OperationStatus.CREATED);
        assertThat(recovery.reconcile()).as("nothing left half-done").isEqualTo(ReconcileOutcome.IDLE);

        volumes.destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }
}
