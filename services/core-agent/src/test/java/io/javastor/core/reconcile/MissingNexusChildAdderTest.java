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
import io.javastor.api.core.v1.Volume;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.ioengine.v1.ChildState;
import io.javastor.api.ioengine.v1.ListNexusRequest;
import io.javastor.api.ioengine.v1.NexusChild;
import io.javastor.api.ioengine.v1.RemoveChildNexusRequest;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.testsupport.AppHost;
import io.javastor.core.testsupport.DrivenReconcilers;

/**
 * {@link MissingNexusChildAdder}, driven step by step: a running target that lacks a child its spec lists (an add cut
 * short, a re-creation from fewer children) gets it back, rebuilt from the others, and only once.
 */
class MissingNexusChildAdderTest {

    @RegisterExtension
    static final DrivenReconcilers driven = new DrivenReconcilers();

    private static final long MIB = 1 << 20;

    private static List<NexusChild> children(String node, String uuid) {
        return driven.cluster().node(node).api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(uuid).build())
                .getNexusList(0).getChildrenList();
    }

    private static int childrenInInventory(String node, String uuid) {
        return driven.cluster().agent().bean(NodeRegistry.class).get(node).orElseThrow().nexuses().stream()
                .filter(n -> n.uuid().equals(uuid)).findFirst().orElseThrow().children().size();
    }

    @Test
    void aChildTheRunningTargetLacksIsAddedBackAndRebuilt() {
        var volumes = VolumeServiceGrpc.newBlockingStub(driven.cluster().agent().channel());
        String uuid = UUID.randomUUID().toString();
        volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(4 * MIB).setReplicaCount(2).build());
        Volume published = volumes.publishVolume(AppHost.TEST_HOST.publish(uuid).build());
        String node = published.getTarget().getNodeId();
        MissingNexusChildAdder adder = driven.reconciler(MissingNexusChildAdder.class);
        assertThat(adder.reconcile()).as("every child there: nothing to do").isEqualTo(ReconcileOutcome.IDLE);

        NexusSpec.Child left = driven.cluster().specs().get(NexusSpec.KIND, uuid).orElseThrow().spec().children().get(1);
        driven.cluster().node(node).api().nexuses().removeChildNexus(RemoveChildNexusRequest.newBuilder().setUuid(uuid)
                .setUri(left.uri()).build());
        assertThat(children(node, uuid)).hasSize(1);
        await("inventory with one child").atMost(Duration.ofSeconds(30)).until(() -> childrenInInventory(node, uuid) == 1);

        assertThat(adder.reconcile()).isEqualTo(ReconcileOutcome.IDLE);
        assertThat(children(node, uuid)).as("added back").hasSize(2)
                .anyMatch(c -> c.getUri().endsWith(left.replicaUuid()));
        assertThat(driven.events(uuid, "RebuildStarted")).as("rebuilt, since it missed what was written meanwhile").isEqualTo(1);
        await("rebuilt and Online").atMost(Duration.ofSeconds(60))
                .until(() -> children(node, uuid).stream().allMatch(c -> c.getState() == ChildState.CHILD_STATE_ONLINE));
        await("inventory with both children").atMost(Duration.ofSeconds(30)).until(() -> childrenInInventory(node, uuid) == 2);
        assertThat(adder.reconcile()).isEqualTo(ReconcileOutcome.IDLE);
        assertThat(driven.events(uuid, "RebuildStarted")).as("added once").isEqualTo(1);

        volumes.destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }
}
