package io.javastor.core.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.Replica;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.core.operation.OperationGuard;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.SpecStore;
import io.javastor.core.testsupport.DrivenReconcilers;
import io.javastor.core.volume.VolumeSpec;

/**
 * {@link ExtraReplicaReconciler}, driven step by step: a scale-down cut short after the volume's spec changed (a crash
 * before its replicas went) is finished; a volume under an operation is left to it; a volume at its count is not touched.
 */
class ExtraReplicaReconcilerTest {

    @RegisterExtension
    static final DrivenReconcilers driven = new DrivenReconcilers();

    private static final long MIB = 1 << 20;

    private static VolumeServiceGrpc.VolumeServiceBlockingStub volumes() {
        return VolumeServiceGrpc.newBlockingStub(driven.cluster().agent().channel());
    }

    private static List<String> replicaSpecs(String volume) {
        return driven.cluster().specs().list(ReplicaSpec.KIND).stream().map(v -> v.spec())
                .filter(r -> r.volumeId().equals(volume)).map(ReplicaSpec::uuid).toList();
    }

    private static boolean onNode(Replica r) {
        return driven.replicaOnNode(r.getNodeId(), r.getUuid());
    }

    /** A 2-replica volume whose spec now says 1, as the first write of a scale-down that crashed leaves it. */
    private static List<Replica> volumeLeftAtTwoReplicasForOne(String uuid) {
        List<Replica> replicas = volumes().createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(4 * MIB)
                .setReplicaCount(2).build()).getReplicasList();
        SpecStore specs = driven.cluster().specs();
        var spec = specs.get(VolumeSpec.KIND, uuid).orElseThrow();
        specs.update(VolumeSpec.KIND, spec, spec.spec().withReplicaCount(1));
        return replicas;
    }

    @Test
    void aScaleDownCutShortIsFinishedOnceAndAVolumeAtItsCountIsLeftAlone() {
        String uuid = UUID.randomUUID().toString();
        List<Replica> replicas = volumeLeftAtTwoReplicasForOne(uuid);
        ExtraReplicaReconciler trimmer = driven.reconciler(ExtraReplicaReconciler.class);

        // The agent's store may see the spec change a moment after this test's wrote it.
        await("extra replica removed").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> trimmer.reconcile() == ReconcileOutcome.IDLE && replicaSpecs(uuid).size() == 1);
        String kept = replicaSpecs(uuid).get(0);
        Replica removed = replicas.stream().filter(r -> !r.getUuid().equals(kept)).findFirst().orElseThrow();
        assertThat(onNode(removed)).as("the removed replica is gone from its node too").isFalse();
        assertThat(onNode(replicas.stream().filter(r -> r.getUuid().equals(kept)).findFirst().orElseThrow())).isTrue();
        assertThat(driven.events(uuid, "VolumeReplicasTrimmed")).isEqualTo(1);

        assertThat(trimmer.reconcile()).isEqualTo(ReconcileOutcome.IDLE);
        assertThat(replicaSpecs(uuid)).as("at its count now: nothing more goes").containsExactly(kept);

        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }

    @Test
    void aVolumeUnderAnOperationIsLeftToItAndTrimmedAfter() throws Exception {
        String uuid = UUID.randomUUID().toString();
        volumeLeftAtTwoReplicasForOne(uuid);
        ExtraReplicaReconciler trimmer = driven.reconciler(ExtraReplicaReconciler.class);
        OperationGuard volumeGuard = driven.cluster().agent().bean("volumeGuard", OperationGuard.class);

        // An operation on the volume holds its guard on its own thread (the guard is reentrant for its holder's thread).
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        CompletableFuture<Void> operation = CompletableFuture.runAsync(() -> {
            try (OperationGuard.Held h = volumeGuard.acquire(uuid, Duration.ofSeconds(10))) {
                held.countDown();
                assertThat(done.await(120, TimeUnit.SECONDS)).as("the test ends the operation").isTrue();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            assertThat(held.await(30, TimeUnit.SECONDS)).as("the operation holds the volume").isTrue();
            // Once the agent sees the spec change it is busy with the volume (it needs the guard), and takes nothing.
            await("busy with the held volume").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> trimmer.reconcile() instanceof ReconcileOutcome.Busy);
            assertThat(replicaSpecs(uuid)).hasSize(2);
        } finally {
            done.countDown();
        }
        operation.get(30, TimeUnit.SECONDS);
        assertThat(trimmer.reconcile()).isEqualTo(ReconcileOutcome.IDLE);
        assertThat(replicaSpecs(uuid)).hasSize(1);

        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }
}
