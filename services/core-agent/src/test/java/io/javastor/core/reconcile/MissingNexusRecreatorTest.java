package io.javastor.core.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.Volume;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.ioengine.v1.DestroyNexusRequest;
import io.javastor.api.ioengine.v1.ListNexusRequest;
import io.javastor.api.ioengine.v1.Nexus;
import io.javastor.core.testsupport.AppHost;
import io.javastor.core.testsupport.DrivenReconcilers;

/**
 * {@link MissingNexusRecreator}, driven step by step: a published volume whose target no longer runs on its Online
 * node (an io-engine restart forgets nexuses) gets it back on the same node at the same address, so hosts reconnect.
 */
class MissingNexusRecreatorTest {

    @RegisterExtension
    static final DrivenReconcilers driven = new DrivenReconcilers();

    private static final long MIB = 1 << 20;

    private static java.util.List<Nexus> running(String node, String uuid) {
        return driven.cluster().node(node).api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(uuid).build()).getNexusListList();
    }

    @Test
    void aPublishedVolumesTargetGoneFromItsNodeIsMadeAgainThereAtTheSameAddress() {
        var volumes = VolumeServiceGrpc.newBlockingStub(driven.cluster().agent().channel());
        String uuid = UUID.randomUUID().toString();
        volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(4 * MIB).setReplicaCount(2).build());
        Volume published = volumes.publishVolume(AppHost.TEST_HOST.publish(uuid).setPreferredNodeId("node-2").build());
        String node = published.getTarget().getNodeId();
        MissingNexusRecreator recreator = driven.reconciler(MissingNexusRecreator.class);
        assertThat(recreator.reconcile()).as("its target runs: nothing to do").isEqualTo(ReconcileOutcome.IDLE);

        try {
            driven.cluster().node(node).api().nexuses().destroyNexus(DestroyNexusRequest.newBuilder().setUuid(uuid).build());
        } catch (StatusRuntimeException notClean) {
            // Gone either way; a fenced target may say its shutdown was not clean.
            assertThat(notClean.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        }
        assertThat(running(node, uuid)).isEmpty();
        await("inventory without the target").atMost(Duration.ofSeconds(30)).until(() -> !driven.inventoryHasNexus(node, uuid));

        await("target made again").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> recreator.reconcile() == ReconcileOutcome.IDLE && !running(node, uuid).isEmpty());
        Nexus again = running(node, uuid).get(0);
        assertThat(again.getDeviceUri()).as("hosts reconnect to the address they had").isEqualTo(published.getTarget().getUri());
        // Made from the children known in sync; the others are marked out of sync, for the child adder to add back and rebuild.
        assertThat(again.getChildrenCount()).isBetween(1, 2);
        assertThat(recreator.reconcile()).isEqualTo(ReconcileOutcome.IDLE);
        assertThat(driven.events(uuid, "TargetRecreated")).as("made once").isEqualTo(1);
        // The rest is the child adder's step (driven here too: the loop leaves it to its own test).
        MissingNexusChildAdder adder = driven.reconciler(MissingNexusChildAdder.class);
        await("both replicas in the target again").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .until(() -> adder.reconcile() == ReconcileOutcome.IDLE && running(node, uuid).get(0).getChildrenCount() == 2);

        volumes.destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }
}
