package io.javastor.core.appnode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.AppNode;
import io.javastor.api.core.v1.AppNodeServiceGrpc;
import io.javastor.api.core.v1.DeregisterAppNodeRequest;
import io.javastor.api.core.v1.GetAppNodeRequest;
import io.javastor.api.core.v1.ListAppNodesRequest;
import io.javastor.api.core.v1.ListAppNodesResponse;
import io.javastor.api.core.v1.RegisterAppNodeRequest;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.core.leader.LeaderElection;
import io.javastor.core.store.SpecStore;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.core.testsupport.RunningAgent;

/** The app-node registry through the agent's gRPC API, kept in a real etcd; as the REST gateway and as a CSI node plugin. */
class AppNodeRegistryTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    private static RunningAgent agent;

    @BeforeAll
    static void startAgent() {
        agent = RunningAgent.start(etcd.endpoint(), "app-nodes", "agent-app-nodes", Map.of());
        await().atMost(Duration.ofSeconds(10)).until(() -> agent.bean(LeaderElection.class).isLeader());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        agent.close();
    }

    private static AppNodeServiceGrpc.AppNodeServiceBlockingStub asGateway() {
        return AppNodeServiceGrpc.newBlockingStub(agent.channel());
    }

    private static RegisterAppNodeRequest registration(String id, String endpoint, Map<String, String> labels) {
        return RegisterAppNodeRequest.newBuilder().setId(id).setEndpoint(endpoint).putAllLabels(labels).build();
    }

    private static Status.Code codeOf(Runnable call) {
        try {
            call.run();
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
        return Status.Code.OK;
    }

    @Test
    void registeringStoresTheNodeInEtcdAndRepeatingItChangesNothing() {
        AppNode first = asGateway().registerAppNode(registration("app-1", "10.1.0.5:50055", Map.of("zone", "a")));
        assertThat(first.getId()).isEqualTo("app-1");
        long revision = agent.bean(SpecStore.class).get(AppNodeSpec.KIND, "app-1").orElseThrow().modRevision();

        AppNode again = asGateway().registerAppNode(registration("app-1", "10.1.0.5:50055", Map.of("zone", "a")));
        assertThat(again).isEqualTo(first);
        assertThat(agent.bean(SpecStore.class).get(AppNodeSpec.KIND, "app-1").orElseThrow().modRevision())
                .as("the same registration writes nothing").isEqualTo(revision);
        assertThat(asGateway().getAppNode(GetAppNodeRequest.newBuilder().setId("app-1").build())).isEqualTo(first);
    }

    @Test
    void aNodeRegisteringFromAnotherEndpointReplacesItsRegistration() {
        asGateway().registerAppNode(registration("app-moved", "10.1.0.5:50055", Map.of("zone", "a")));
        AppNode moved = asGateway().registerAppNode(registration("app-moved", "unix:///run/csi/csi.sock", Map.of("zone", "b")));

        AppNode read = asGateway().getAppNode(GetAppNodeRequest.newBuilder().setId("app-moved").build());
        assertThat(read).isEqualTo(moved);
        assertThat(read.getEndpoint()).isEqualTo("unix:///run/csi/csi.sock");
        assertThat(read.getLabelsMap()).containsExactly(Map.entry("zone", "b"));
    }

    @Test
    void deregisteringRemovesTheNodeAndRepeatingItSucceeds() {
        asGateway().registerAppNode(registration("app-gone", "127.0.0.1:1", Map.of()));
        asGateway().deregisterAppNode(DeregisterAppNodeRequest.newBuilder().setId("app-gone").build());
        assertThat(codeOf(() -> asGateway().getAppNode(GetAppNodeRequest.newBuilder().setId("app-gone").build())))
                .isEqualTo(Status.Code.NOT_FOUND);
        assertThat(agent.bean(SpecStore.class).get(AppNodeSpec.KIND, "app-gone")).isEmpty();

        asGateway().deregisterAppNode(DeregisterAppNodeRequest.newBuilder().setId("app-gone").build());
    }

    @Test
    void listingPagesInIdOrder() {
        for (String id : List.of("page-c", "page-a", "page-b")) {
            asGateway().registerAppNode(registration(id, "127.0.0.1:2", Map.of()));
        }
        List<String> ids = asGateway().listAppNodes(ListAppNodesRequest.getDefaultInstance()).getAppNodesList().stream()
                .map(AppNode::getId).filter(id -> id.startsWith("page-")).toList();
        assertThat(ids).containsExactly("page-a", "page-b", "page-c");

        List<String> paged = new java.util.ArrayList<>();
        long token = 0;
        int pages = 0;
        while (true) {
            ListAppNodesResponse page = asGateway().listAppNodes(ListAppNodesRequest.newBuilder().setMaxEntries(2).setStartingToken(token).build());
            assertThat(page.getAppNodesCount()).isLessThanOrEqualTo(2);
            page.getAppNodesList().forEach(a -> paged.add(a.getId()));
            pages++;
            if (!page.hasNextToken()) {
                break;
            }
            token = page.getNextToken();
        }
        assertThat(pages).isGreaterThan(1);
        assertThat(paged).isEqualTo(asGateway().listAppNodes(ListAppNodesRequest.getDefaultInstance()).getAppNodesList().stream()
                .map(AppNode::getId).toList());
    }

    @Test
    void badRegistrationsAreRefusedByFieldAndStoreNothing() {
        for (RegisterAppNodeRequest bad : List.of(registration("Not_A_Node", "127.0.0.1:1", Map.of()),
                registration("app-bad", "", Map.of()), registration("app-bad", "no-port", Map.of()),
                registration("app-bad", "127.0.0.1:70000", Map.of()), registration("app-bad", "http://x:1/path", Map.of()),
                registration("app-bad", "127.0.0.1:1", Map.of("has space", "v")))) {
            assertThatThrownBy(() -> asGateway().registerAppNode(bad)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                assertThat(e.getStatus().getDescription()).matches("(id|endpoint|labels).*");
            });
        }
        assertThat(agent.bean(SpecStore.class).get(AppNodeSpec.KIND, "app-bad")).isEmpty();
        assertThat(codeOf(() -> asGateway().getAppNode(GetAppNodeRequest.newBuilder().setId("never-registered").build())))
                .isEqualTo(Status.Code.NOT_FOUND);
        assertThat(codeOf(() -> asGateway().listAppNodes(ListAppNodesRequest.newBuilder().setStartingToken(-1).build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void aCsiNodePluginRegistersAndDeregistersButReadsNothingElse() {
        var asCsiNode = AppNodeServiceGrpc.newBlockingStub(agent.channelAs(ClusterPeer.CSI_NODE));
        asCsiNode.registerAppNode(registration("csi-app", "unix:///run/csi/csi.sock", Map.of("io.javastor/csi-node.nvme-ana", "true")));
        assertThat(asGateway().getAppNode(GetAppNodeRequest.newBuilder().setId("csi-app").build()).getLabelsMap())
                .containsEntry("io.javastor/csi-node.nvme-ana", "true");
        assertThat(codeOf(() -> asCsiNode.listAppNodes(ListAppNodesRequest.getDefaultInstance()))).isEqualTo(Status.Code.PERMISSION_DENIED);
        asCsiNode.deregisterAppNode(DeregisterAppNodeRequest.newBuilder().setId("csi-app").build());
        assertThat(codeOf(() -> asGateway().getAppNode(GetAppNodeRequest.newBuilder().setId("csi-app").build()))).isEqualTo(Status.Code.NOT_FOUND);
    }
}
