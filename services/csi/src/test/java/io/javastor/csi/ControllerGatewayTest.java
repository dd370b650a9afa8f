package io.javastor.csi;

import csi.v1.Csi;
import csi.v1.Csi.CapacityRange;
import csi.v1.Csi.ControllerExpandVolumeRequest;
import csi.v1.Csi.ControllerPublishVolumeRequest;
import csi.v1.Csi.ControllerUnpublishVolumeRequest;
import csi.v1.Csi.CreateVolumeRequest;
import csi.v1.Csi.CreateVolumeResponse;
import csi.v1.Csi.DeleteVolumeRequest;
import csi.v1.Csi.GetCapacityRequest;
import csi.v1.Csi.ListVolumesRequest;
import csi.v1.Csi.ListVolumesResponse;
import csi.v1.Csi.Topology;
import csi.v1.Csi.TopologyRequirement;
import csi.v1.Csi.ValidateVolumeCapabilitiesRequest;
import csi.v1.Csi.VolumeCapability;
import io.grpc.Status;
import io.javastor.api.rest.BearerTokenFile;
import io.javastor.csi.controller.ControllerService;
import io.javastor.csi.controller.RestGateway;
import io.javastor.csi.node.registration.AppNodeRegistration;
import io.javastor.csi.support.Caps;
import io.javastor.csi.support.CsiClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import io.javastor.csi.support.GatewayStack;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static io.javastor.csi.support.GrpcAssertions.fails;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The controller plugin against the real REST gateway + core agent + io-engines + etcd ({@link GatewayStack}, each in
 * its own process), through a real gRPC client on the unix socket: every controller call, idempotence and the error
 * codes that need the gateway, and the node plugin's registration of its node as an app node (which publishing needs). With -Djavastor.csi.rest-url=URL (and -Djavastor.csi.rest-token-file=FILE) it runs against an already running stack instead.
 */
class ControllerGatewayTest {
    @TempDir
    static Path tmp;
    static ConfigurableApplicationContext app;
    static CsiClient csi;
    static final String RUN = UUID.randomUUID().toString().substring(0, 8);
    static final List<String> created = new ArrayList<>();
    static GatewayStack stack;
    static String operatorTokenFile;

    @BeforeAll
    static void start() throws Exception {
        String url = System.getProperty("javastor.csi.rest-url", "");
        String tokenFile = System.getProperty("javastor.csi.rest-token-file", "");
        if (url.isBlank()) {
            stack = GatewayStack.start(tmp.resolve("stack"));
            url = stack.url();
            tokenFile = stack.tokenFile("operator").toString();
        }
        operatorTokenFile = tokenFile;
        // The nodes the tests publish to, registered as their CSI node plugins would (ControllerPublishVolume to a node no
        // plugin registered is NOT_FOUND). Against an external stack, javastor.csi.rest-token-file must be an admin's.
        for (String node : List.of("app-node-1", "app-node-2")) {
            registerAppNode(url, tokenFile, node);
        }
        Path socket = tmp.resolve("csi-controller.sock");
        app = new SpringApplicationBuilder(CsiApplication.class).run("--javastor.csi.mode=controller", "--javastor.csi.endpoint=" + socket,
                "--javastor.csi.rest-url=" + url, "--javastor.csi.rest-token-file=" + tokenFile,
                "--javastor.csi.rest-ca-file=" + System.getProperty("javastor.csi.rest-ca-file", io.javastor.testsupport.ClusterCertificates.shared().dir().resolve("ca.crt").toString()));
        csi = new CsiClient(socket, 120);
    }

    @AfterAll
    static void stop() throws Exception {
        if (csi != null) {
            for (String id : created) {
                csi.controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(id).build());
            }
            csi.close();
        }
        if (app != null) {
            app.close();
        }
        if (stack != null) {
            stack.close();
        }
    }

    /** PUT /v0/app-nodes/{node}, as a node plugin registers itself (ours do it over the core agent's gRPC API). */
    static void registerAppNode(String url, String tokenFile, String node) throws Exception {
        String token = stack != null ? Files.readString(stack.tokenFile("admin")).strip() : Files.readString(Path.of(tokenFile)).strip();
        java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
                .sslContext(io.javastor.testsupport.ClusterCertificates.shared().httpsClient()).build();
        java.net.http.HttpResponse<String> r = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "/v0/app-nodes/" + node))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"endpoint\":\"unix:///run/csi/csi.sock\"}")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("register app node %s: %s", node, r.body()).isEqualTo(204);
    }

    static CreateVolumeRequest request(String name, long bytes) {
        return CreateVolumeRequest.newBuilder().setName(name).addVolumeCapabilities(Caps.mount("ext4"))
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(bytes)).putParameters("repl", "1")
                .putParameters("protocol", "nvmf").putParameters("thin", "true").putParameters("ioTimeout", "30")
                .putParameters("csi.storage.k8s.io/pvc/name", "ignored").build();
    }

    static CreateVolumeResponse create(CreateVolumeRequest r) {
        CreateVolumeResponse v = csi.controller().createVolume(r);
        created.add(v.getVolume().getVolumeId());
        return v;
    }

    @Test
    void createIsIdempotentByNameAndAConflictingCapacityIsAlreadyExists() {
        CreateVolumeRequest r = request("pvc-" + RUN + "-a", 64L << 20);
        CreateVolumeResponse first = create(r);
        assertThat(first.getVolume().getVolumeId()).isEqualTo(ControllerService.volumeUuid(r.getName()));
        assertThat(first.getVolume().getCapacityBytes()).isEqualTo(64L << 20);
        assertThat(first.getVolume().getVolumeContextMap()).containsEntry("protocol", "nvmf").containsEntry("ioTimeout", "30")
                .containsEntry("fsType", "ext4");
        assertThat(first.getVolume().getAccessibleTopologyList()).extracting(t -> t.getSegmentsMap().get("io.javastor/csi-node")).containsOnly("javastor");
        assertThat(csi.controller().createVolume(r)).isEqualTo(first);
        fails(Status.Code.ALREADY_EXISTS, "not compatible", () -> csi.controller().createVolume(request(r.getName(), 128L << 20)));
        fails(Status.Code.ALREADY_EXISTS, "not compatible", () -> csi.controller().createVolume(r.toBuilder().putParameters("repl", "2").build()));
    }

    @Test
    void theTokenFileIsReadPerCallSoAViewersTokenIsDeniedAndTheOperatorsWorksAgain() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(stack != null, "SKIPPED: runs only against the stack it starts (it swaps the token file)");
        Path file = Path.of(operatorTokenFile);
        String operator = java.nio.file.Files.readString(file);
        CreateVolumeRequest r = request("pvc-" + RUN + "-role", 64L << 20);
        try {
            java.nio.file.Files.writeString(file, java.nio.file.Files.readString(stack.tokenFile("viewer")));
            fails(Status.Code.PERMISSION_DENIED, "needs role operator", () -> create(r));
            assertThat(stack.call("GET", "/v0/volumes/" + ControllerService.volumeUuid(r.getName()), null).statusCode())
                    .as("nothing was created").isEqualTo(404);
            java.nio.file.Files.writeString(file, "");
            fails(Status.Code.UNAUTHENTICATED, "is empty", () -> create(r));
        } finally {
            java.nio.file.Files.writeString(file, operator);
        }
        assertThat(create(r).getVolume().getVolumeId()).isEqualTo(ControllerService.volumeUuid(r.getName()));
    }

    @Test
    void unsatisfiableSizesAndTopologiesHaveTheirCodes() {
        fails(Status.Code.RESOURCE_EXHAUSTED, "", () -> create(request("pvc-" + RUN + "-huge", 1L << 50)));
        fails(Status.Code.RESOURCE_EXHAUSTED, "accessibility_requirements", () -> create(request("pvc-" + RUN + "-topo", 64L << 20).toBuilder()
                .setAccessibilityRequirements(TopologyRequirement.newBuilder().addRequisite(Topology.newBuilder()
                        .putSegments("io.javastor/csi-node", "someone-else"))).build()));
    }

    @Test
    void publishReturnsTheNvmfUriIdempotentlyAndUnpublishIsIdempotent() {
        String id = create(request("pvc-" + RUN + "-pub", 64L << 20)).getVolume().getVolumeId();
        ControllerPublishVolumeRequest pub = ControllerPublishVolumeRequest.newBuilder().setVolumeId(id).setNodeId("app-node-1")
                .setVolumeCapability(Caps.mount("ext4")).putVolumeContext("ioTimeout", "30").build();
        String uri = csi.controller().controllerPublishVolume(pub).getPublishContextOrThrow("uri");
        assertThat(uri).startsWith("nvmf://").endsWith("/nqn.2019-05.io.javastor:" + id);
        assertThat(csi.controller().controllerPublishVolume(pub).getPublishContextOrThrow("uri")).isEqualTo(uri);
        fails(Status.Code.FAILED_PRECONDITION, "published for hosts [nqn.2019-05.io.javastor:node-name:app-node-1]", () -> csi.controller().controllerPublishVolume(
                pub.toBuilder().setNodeId("app-node-2").build()));
        // a stale unpublish for another node leaves app-node-1's target alone
        csi.controller().controllerUnpublishVolume(ControllerUnpublishVolumeRequest.newBuilder().setVolumeId(id).setNodeId("app-node-2").build());
        fails(Status.Code.FAILED_PRECONDITION, "app-node-1", () -> csi.controller().controllerPublishVolume(
                pub.toBuilder().setNodeId("app-node-2").build()));
        csi.controller().controllerUnpublishVolume(ControllerUnpublishVolumeRequest.newBuilder().setVolumeId(id).setNodeId("app-node-1").build());
        csi.controller().controllerUnpublishVolume(ControllerUnpublishVolumeRequest.newBuilder().setVolumeId(id).setNodeId("app-node-1").build());
        // unpublished: now another node may have it
        assertThat(csi.controller().controllerPublishVolume(pub.toBuilder().setNodeId("app-node-2").build()).getPublishContextOrThrow("uri"))
                .endsWith("/nqn.2019-05.io.javastor:" + id);
        csi.controller().controllerUnpublishVolume(ControllerUnpublishVolumeRequest.newBuilder().setVolumeId(id).build());
        csi.controller().controllerUnpublishVolume(ControllerUnpublishVolumeRequest.newBuilder().setVolumeId(UUID.randomUUID().toString()).build());
        fails(Status.Code.NOT_FOUND, "does not exist", () -> csi.controller().controllerPublishVolume(
                pub.toBuilder().setVolumeId(UUID.randomUUID().toString()).build()));
    }

    @Test
    void publishToANodeNoPluginRegisteredIsNotFoundAndPublishesNothing() throws Exception {
        String id = create(request("pvc-" + RUN + "-nonode", 64L << 20)).getVolume().getVolumeId();
        ControllerPublishVolumeRequest pub = ControllerPublishVolumeRequest.newBuilder().setVolumeId(id).setNodeId("no-such-node")
                .setVolumeCapability(Caps.mount("ext4")).build();
        fails(Status.Code.NOT_FOUND, "node no-such-node does not exist", () -> csi.controller().controllerPublishVolume(pub));
        fails(Status.Code.NOT_FOUND, "does not exist", () -> csi.controller().controllerPublishVolume(pub.toBuilder().setNodeId("Not_A_Node").build()));
        RestGateway gateway = new RestGateway(stackUrl(), java.time.Duration.ofSeconds(30), new BearerTokenFile(Path.of(operatorTokenFile)),
                io.javastor.testsupport.ClusterCertificates.shared().dir().resolve("ca.crt"));
        assertThat(gateway.getVolume(id).orElseThrow().path("spec").has("target")).as("nothing published").isFalse();

        // A node whose plugin went away (deregistered on stop) is NOT_FOUND again, also for a volume published to it before.
        registerAppNode(stackUrl(), operatorTokenFile, "app-node-leaving");
        String uri = csi.controller().controllerPublishVolume(pub.toBuilder().setNodeId("app-node-leaving").build()).getPublishContextOrThrow("uri");
        assertThat(uri).startsWith("nvmf://");
        assertThat(gateway.appNodeRegistered("app-node-leaving")).isTrue();
        deregisterAppNode("app-node-leaving");
        fails(Status.Code.NOT_FOUND, "app-node-leaving", () -> csi.controller().controllerPublishVolume(pub.toBuilder().setNodeId("app-node-leaving").build()));
        csi.controller().controllerUnpublishVolume(ControllerUnpublishVolumeRequest.newBuilder().setVolumeId(id).setNodeId("app-node-leaving").build());
    }

    /**
     * The node plugin registers its node with the core agent, retrying with back-off while the agent does not answer, and
     * deregisters it when it stops. A second core agent (its own cluster prefix in the stack's etcd) starts only after
     * the plugin's first attempts failed.
     */
    @Test
    void theNodePluginRegistersItsNodeOnceTheAgentAnswersAndDeregistersWhenItStops() throws Exception {
        Assumptions.assumeTrue(stack != null, "needs the test's own stack (not -Djavastor.csi.rest-url)");
        try (io.javastor.testsupport.CoreAgentProcess agent = new io.javastor.testsupport.CoreAgentProcess(stack.etcdEndpoint(),
                "csi-app-nodes", stack.dir())) {
            Path socket = tmp.resolve("csi-node-registering.sock");
            List<String> args = new ArrayList<>(List.of("--javastor.csi.mode=node", "--javastor.csi.endpoint=" + socket,
                    "--javastor.csi.node-name=registering-node", "--javastor.csi.core-agent-address=" + agent.address(),
                    "--javastor.csi.topology.zone=z1", "--javastor.csi.app-node-max-retry-delay=2s"));
            io.javastor.testsupport.ClusterCertificates.shared().springProperties(io.javastor.api.tls.ClusterPeer.CSI_NODE)
                    .forEach((k, v) -> args.add("--" + k + "=" + v));
            ConfigurableApplicationContext node = new SpringApplicationBuilder(CsiApplication.class).run(args.toArray(String[]::new));
            try {
                AppNodeRegistration registration = node.getBean(AppNodeRegistration.class);
                await("the plugin's registration failing while no agent answers").atMost(Duration.ofMinutes(1))
                        .pollInterval(Duration.ofMillis(200)).until(() -> registration.failedAttempts() >= 2);
                assertThat(registration.registrations()).isZero();

                agent.start();
                var appNodes = io.javastor.api.core.v1.AppNodeServiceGrpc.newBlockingStub(agent.apiChannel());
                var get = io.javastor.api.core.v1.GetAppNodeRequest.newBuilder().setId("registering-node").build();
                await("registered once the agent answers").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                        .ignoreExceptionsMatching(e -> e instanceof io.grpc.StatusRuntimeException)
                        .until(() -> appNodes.getAppNode(get).getId().equals("registering-node"));
                var registered = appNodes.getAppNode(get);
                assertThat(registered.getEndpoint()).isEqualTo("unix://" + socket.toAbsolutePath());
                assertThat(registered.getLabelsMap()).containsEntry("zone", "z1").containsKey(AppNodeRegistration.NVME_ANA_LABEL);
                assertThat(registration.registrations()).isPositive();
            } finally {
                node.close();
            }
            var appNodes = io.javastor.api.core.v1.AppNodeServiceGrpc.newBlockingStub(agent.apiChannel());
            fails(Status.Code.NOT_FOUND, "registering-node", () -> appNodes.getAppNode(
                    io.javastor.api.core.v1.GetAppNodeRequest.newBuilder().setId("registering-node").build()));
        }
    }

    static String stackUrl() {
        return stack != null ? stack.url() : System.getProperty("javastor.csi.rest-url");
    }

    static void deregisterAppNode(String node) throws Exception {
        String token = stack != null ? Files.readString(stack.tokenFile("admin")).strip() : Files.readString(Path.of(operatorTokenFile)).strip();
        java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
                .sslContext(io.javastor.testsupport.ClusterCertificates.shared().httpsClient()).build();
        java.net.http.HttpResponse<String> r = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(stackUrl() + "/v0/app-nodes/" + node))
                .header("Authorization", "Bearer " + token).DELETE().build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("deregister app node %s: %s", node, r.body()).isEqualTo(204);
    }

    @Test
    void expandValidateCapacityListAndDelete() {
        String id = create(request("pvc-" + RUN + "-grow", 64L << 20)).getVolume().getVolumeId();
        var grown = csi.controller().controllerExpandVolume(ControllerExpandVolumeRequest.newBuilder().setVolumeId(id)
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(96L << 20)).build());
        assertThat(grown.getCapacityBytes()).isEqualTo(96L << 20);
        assertThat(grown.getNodeExpansionRequired()).isTrue();
        assertThat(csi.controller().controllerExpandVolume(ControllerExpandVolumeRequest.newBuilder().setVolumeId(id)
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(80L << 20)).build()).getCapacityBytes()).as("never shrinks").isEqualTo(96L << 20);
        fails(Status.Code.NOT_FOUND, "does not exist", () -> csi.controller().controllerExpandVolume(ControllerExpandVolumeRequest.newBuilder()
                .setVolumeId(UUID.randomUUID().toString()).setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(1L << 30)).build()));

        var valid = csi.controller().validateVolumeCapabilities(ValidateVolumeCapabilitiesRequest.newBuilder().setVolumeId(id)
                .addVolumeCapabilities(Caps.mount("ext4")).build());
        assertThat(valid.getConfirmed().getVolumeCapabilitiesList()).containsExactly(Caps.mount("ext4"));
        var refused = csi.controller().validateVolumeCapabilities(ValidateVolumeCapabilitiesRequest.newBuilder().setVolumeId(id)
                .addVolumeCapabilities(Caps.block(VolumeCapability.AccessMode.Mode.MULTI_NODE_MULTI_WRITER)).build());
        assertThat(refused.hasConfirmed()).isFalse();
        assertThat(refused.getMessage()).contains("MULTI_NODE_MULTI_WRITER");
        fails(Status.Code.NOT_FOUND, "does not exist", () -> csi.controller().validateVolumeCapabilities(ValidateVolumeCapabilitiesRequest
                .newBuilder().setVolumeId(UUID.randomUUID().toString()).addVolumeCapabilities(Caps.mount("ext4")).build()));

        var capacity = csi.controller().getCapacity(GetCapacityRequest.newBuilder().putParameters("repl", "1").build());
        assertThat(capacity.getAvailableCapacity()).isPositive();
        assertThat(capacity.getMaximumVolumeSize().getValue()).isPositive().isLessThanOrEqualTo(capacity.getAvailableCapacity());
        assertThat(csi.controller().getCapacity(GetCapacityRequest.newBuilder().setAccessibleTopology(Topology.newBuilder()
                .putSegments("io.javastor/csi-node", "other")).build()).getAvailableCapacity()).isZero();

        create(request("pvc-" + RUN + "-list-1", 64L << 20));
        create(request("pvc-" + RUN + "-list-2", 64L << 20));
        Set<String> seen = new HashSet<>();
        String token = "";
        int pages = 0;
        do {
            ListVolumesResponse page = csi.controller().listVolumes(ListVolumesRequest.newBuilder().setMaxEntries(1).setStartingToken(token).build());
            assertThat(page.getEntriesCount()).isLessThanOrEqualTo(1);
            page.getEntriesList().forEach(e -> seen.add(e.getVolume().getVolumeId()));
            token = page.getNextToken();
            pages++;
        } while (!token.isEmpty() && pages < 1000);
        assertThat(seen).contains(id, ControllerService.volumeUuid("pvc-" + RUN + "-list-1"), ControllerService.volumeUuid("pvc-" + RUN + "-list-2"));
        fails(Status.Code.ABORTED, "starting_token", () -> csi.controller().listVolumes(ListVolumesRequest.newBuilder()
                .setStartingToken("not-a-token-" + RUN).build()));

        csi.controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(id).build());
        csi.controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(id).build()); // idempotent
        fails(Status.Code.NOT_FOUND, "does not exist", () -> csi.controller().validateVolumeCapabilities(ValidateVolumeCapabilitiesRequest
                .newBuilder().setVolumeId(id).addVolumeCapabilities(Caps.mount("ext4")).build()));
    }

    // ---------------------------------------------------------------- snapshots and clones (issue 15)

    static Csi.CreateSnapshotRequest snapshotRequest(String name, String volumeId) {
        return Csi.CreateSnapshotRequest.newBuilder().setName(name).setSourceVolumeId(volumeId).build();
    }

    @Test
    void snapshotsFollowTheSpecsRulesAndVolumesAreCreatedFromThemAndFromVolumes() {
        assertThat(csi.controller().controllerGetCapabilities(Csi.ControllerGetCapabilitiesRequest.getDefaultInstance())
                .getCapabilitiesList()).extracting(c -> c.getRpc().getType()).contains(
                Csi.ControllerServiceCapability.RPC.Type.CREATE_DELETE_SNAPSHOT,
                Csi.ControllerServiceCapability.RPC.Type.LIST_SNAPSHOTS,
                Csi.ControllerServiceCapability.RPC.Type.CLONE_VOLUME);
        String source = create(request("pvc-" + RUN + "-snapsrc", 64L << 20)).getVolume().getVolumeId();
        String other = create(request("pvc-" + RUN + "-snapother", 64L << 20)).getVolume().getVolumeId();

        // CreateSnapshot: idempotent by name; the same name with another source is ALREADY_EXISTS; bad input named.
        Csi.Snapshot snap = csi.controller().createSnapshot(snapshotRequest("snap-" + RUN + "-1", source)).getSnapshot();
        assertThat(snap.getSnapshotId()).isEqualTo(ControllerService.snapshotUuid("snap-" + RUN + "-1"));
        assertThat(snap.getSourceVolumeId()).isEqualTo(source);
        assertThat(snap.getSizeBytes()).isEqualTo(64L << 20);
        assertThat(snap.getReadyToUse()).isTrue();
        assertThat(snap.getCreationTime().getSeconds()).isPositive();
        assertThat(csi.controller().createSnapshot(snapshotRequest("snap-" + RUN + "-1", source)).getSnapshot()).isEqualTo(snap);
        fails(Status.Code.ALREADY_EXISTS, other, () -> csi.controller().createSnapshot(snapshotRequest("snap-" + RUN + "-1", other)));
        fails(Status.Code.INVALID_ARGUMENT, "name", () -> csi.controller().createSnapshot(snapshotRequest("", source)));
        fails(Status.Code.INVALID_ARGUMENT, "source_volume_id", () -> csi.controller().createSnapshot(snapshotRequest("snap-" + RUN + "-x", "")));
        fails(Status.Code.NOT_FOUND, "", () -> csi.controller().createSnapshot(snapshotRequest("snap-" + RUN + "-y", UUID.randomUUID().toString())));
        fails(Status.Code.NOT_FOUND, "", () -> csi.controller().createSnapshot(snapshotRequest("snap-" + RUN + "-z", "not-ours")));
        Csi.Snapshot snap2 = csi.controller().createSnapshot(snapshotRequest("snap-" + RUN + "-2", source)).getSnapshot();
        Csi.Snapshot snap3 = csi.controller().createSnapshot(snapshotRequest("snap-" + RUN + "-3", other)).getSnapshot();

        // ListSnapshots: filters, paging, a bad starting token is ABORTED.
        assertThat(csi.controller().listSnapshots(Csi.ListSnapshotsRequest.newBuilder().setSourceVolumeId(source).build()).getEntriesList())
                .extracting(e -> e.getSnapshot().getSnapshotId()).containsExactly(snap.getSnapshotId(), snap2.getSnapshotId());
        assertThat(csi.controller().listSnapshots(Csi.ListSnapshotsRequest.newBuilder().setSnapshotId(snap3.getSnapshotId()).build())
                .getEntriesList()).extracting(e -> e.getSnapshot().getSourceVolumeId()).containsExactly(other);
        assertThat(csi.controller().listSnapshots(Csi.ListSnapshotsRequest.newBuilder().setSnapshotId("not-ours").build())
                .getEntriesList()).isEmpty();
        assertThat(csi.controller().listSnapshots(Csi.ListSnapshotsRequest.newBuilder().setSnapshotId(snap3.getSnapshotId())
                .setSourceVolumeId(source).build()).getEntriesList()).as("both filters must match").isEmpty();
        List<String> paged = new ArrayList<>();
        String token = "";
        int pages = 0;
        do {
            var page = csi.controller().listSnapshots(Csi.ListSnapshotsRequest.newBuilder().setMaxEntries(1).setStartingToken(token).build());
            assertThat(page.getEntriesCount()).isLessThanOrEqualTo(1);
            page.getEntriesList().forEach(e -> paged.add(e.getSnapshot().getSnapshotId()));
            token = page.getNextToken();
            pages++;
        } while (!token.isEmpty() && pages < 100);
        assertThat(paged).contains(snap.getSnapshotId(), snap2.getSnapshotId(), snap3.getSnapshotId()).doesNotHaveDuplicates();
        fails(Status.Code.ABORTED, "starting_token", () -> csi.controller().listSnapshots(Csi.ListSnapshotsRequest.newBuilder()
                .setStartingToken("garbage").build()));
        fails(Status.Code.INVALID_ARGUMENT, "max_entries", () -> csi.controller().listSnapshots(Csi.ListSnapshotsRequest.newBuilder()
                .setMaxEntries(-1).build()));

        // CreateVolume from the snapshot and from a volume; idempotent; another source under the same name is ALREADY_EXISTS.
        Csi.VolumeContentSource fromSnap = Csi.VolumeContentSource.newBuilder().setSnapshot(
                Csi.VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(snap.getSnapshotId())).build();
        CreateVolumeRequest restore = request("pvc-" + RUN + "-restored", 64L << 20).toBuilder().setVolumeContentSource(fromSnap).build();
        CreateVolumeResponse restored = create(restore);
        assertThat(restored.getVolume().getContentSource()).isEqualTo(fromSnap);
        assertThat(restored.getVolume().getCapacityBytes()).isEqualTo(64L << 20);
        assertThat(csi.controller().createVolume(restore)).isEqualTo(restored);
        fails(Status.Code.ALREADY_EXISTS, "content source", () -> csi.controller().createVolume(restore.toBuilder().setVolumeContentSource(
                Csi.VolumeContentSource.newBuilder().setSnapshot(Csi.VolumeContentSource.SnapshotSource.newBuilder()
                        .setSnapshotId(snap2.getSnapshotId()))).build()));
        fails(Status.Code.NOT_FOUND, "snapshot", () -> create(request("pvc-" + RUN + "-nosnap", 64L << 20).toBuilder().setVolumeContentSource(
                Csi.VolumeContentSource.newBuilder().setSnapshot(Csi.VolumeContentSource.SnapshotSource.newBuilder()
                        .setSnapshotId(UUID.randomUUID().toString()))).build()));
        fails(Status.Code.OUT_OF_RANGE, "limit_bytes", () -> create(request("pvc-" + RUN + "-small", 32L << 20).toBuilder()
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(32L << 20).setLimitBytes(32L << 20)).setVolumeContentSource(fromSnap).build()));
        Csi.VolumeContentSource fromVolume = Csi.VolumeContentSource.newBuilder().setVolume(
                Csi.VolumeContentSource.VolumeSource.newBuilder().setVolumeId(source)).build();
        CreateVolumeRequest clone = request("pvc-" + RUN + "-clone", 128L << 20).toBuilder().setVolumeContentSource(fromVolume).build();
        CreateVolumeResponse cloned = create(clone);
        assertThat(cloned.getVolume().getContentSource()).isEqualTo(fromVolume);
        assertThat(cloned.getVolume().getCapacityBytes()).as("bigger than its source, as asked").isEqualTo(128L << 20);
        assertThat(csi.controller().createVolume(clone)).isEqualTo(cloned);
        assertThat(csi.controller().listSnapshots(Csi.ListSnapshotsRequest.newBuilder().setSourceVolumeId(source).build()).getEntriesList())
                .as("the clone's snapshot is hidden").extracting(e -> e.getSnapshot().getSnapshotId())
                .containsExactly(snap.getSnapshotId(), snap2.getSnapshotId());
        fails(Status.Code.NOT_FOUND, "volume", () -> create(request("pvc-" + RUN + "-noclone", 64L << 20).toBuilder().setVolumeContentSource(
                Csi.VolumeContentSource.newBuilder().setVolume(Csi.VolumeContentSource.VolumeSource.newBuilder()
                        .setVolumeId(UUID.randomUUID().toString()))).build()));

        // DeleteSnapshot: idempotent; a restored volume outlives its snapshot.
        for (Csi.Snapshot s : List.of(snap, snap2, snap3)) {
            csi.controller().deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder().setSnapshotId(s.getSnapshotId()).build());
            csi.controller().deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder().setSnapshotId(s.getSnapshotId()).build());
        }
        csi.controller().deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder().setSnapshotId("not-ours").build());
        fails(Status.Code.INVALID_ARGUMENT, "snapshot_id", () -> csi.controller().deleteSnapshot(Csi.DeleteSnapshotRequest.getDefaultInstance()));
        assertThat(csi.controller().listSnapshots(Csi.ListSnapshotsRequest.newBuilder().setSourceVolumeId(source).build()).getEntriesList()).isEmpty();
        assertThat(stack == null || stack.call("GET", "/v0/volumes/" + restored.getVolume().getVolumeId(), null).statusCode() == 200)
                .as("the restored volume is still there").isTrue();
    }
}
