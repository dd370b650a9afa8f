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
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.testsupport.AppHost;
import io.javastor.core.testsupport.DrivenReconcilers;
import io.javastor.core.volume.VolumeSpec;

/**
 * {@link NexusSpecRecovery}, driven step by step: a target left Creating (a publish cut short: its caller never got a
 * URI and retries) is undone, one left Deleting (an unpublish cut short) is finished; the volume itself stays.
 */
class NexusSpecRecoveryTest {

    @RegisterExtension
    static final DrivenReconcilers driven = new DrivenReconcilers();

    private static final long MIB = 1 << 20;

    private static void targetLeftAndRecovered(OperationStatus left) {
        var volumes = VolumeServiceGrpc.newBlockingStub(driven.cluster().agent().channel());
        String uuid = UUID.randomUUID().toString();
        volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(4 * MIB).setReplicaCount(1).build());
        Volume published = volumes.publishVolume(AppHost.TEST_HOST.publish(uuid).build());
        String node = published.getTarget().getNodeId();
        SpecStore specs = driven.cluster().specs();
        var spec = specs.get(NexusSpec.KIND, uuid).orElseThrow();
        specs.update(NexusSpec.KIND, spec, spec.spec().with(left, spec.spec().uri()));

        NexusSpecRecovery recovery = driven.reconciler(NexusSpecRecovery.class);
        // The agent's store may see the change a moment after this test's wrote it.
        await("target left " + left + " removed").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> recovery.reconcile() == ReconcileOutcome.IDLE && specs.get(NexusSpec.KIND, uuid).isEmpty());
        assertThat(driven.nexusOnNode(node, uuid)).as("no nexus on " + node).isFalse();
        assertThat(specs.get(VolumeSpec.KIND, uuid).orElseThrow().spec().operation()).as("the volume stays").isEqualTo(OperationStatus.CREATED);
        assertThat(recovery.reconcile()).as("nothing left half-done").isEqualTo(ReconcileOutcome.IDLE);
        volumes.destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }

    @Test
    void aTargetLeftCreatingIsUndone() {
        targetLeftAndRecovered(OperationStatus.CREATING);
    }

    @Test
    void aTargetLeftDeletingIsFinished() {
        targetLeftAndRecovered(OperationStatus.DELETING);
    }
}
