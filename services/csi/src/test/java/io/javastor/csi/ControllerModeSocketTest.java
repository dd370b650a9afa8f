package io.javastor.csi;

import io.javastor.testsupport.FreePorts;
import csi.v1.Csi.CapacityRange;
import csi.v1.Csi.ControllerExpandVolumeRequest;
import csi.v1.Csi.ControllerGetCapabilitiesRequest;
import csi.v1.Csi.ControllerPublishVolumeRequest;
import csi.v1.Csi.ControllerServiceCapability;
import csi.v1.Csi.CreateVolumeRequest;
import csi.v1.Csi.DeleteVolumeRequest;
import csi.v1.Csi.GetPluginCapabilitiesRequest;
import csi.v1.Csi.GetPluginInfoRequest;
import csi.v1.Csi.ListVolumesRequest;
import csi.v1.Csi.NodeGetInfoRequest;
import csi.v1.Csi.PluginCapability;
import csi.v1.Csi.ProbeRequest;
import csi.v1.Csi.ValidateVolumeCapabilitiesRequest;
import csi.v1.Csi.VolumeCapability;
import csi.v1.Csi.VolumeContentSource;
import io.grpc.Status;
import io.javastor.csi.controller.ControllerService;
import io.javastor.csi.metrics.MetricsEndpoint;
import io.javastor.csi.support.Caps;
import io.javastor.csi.support.CsiClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.javastor.csi.support.GrpcAssertions.fails;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The plugin in controller mode on a real unix socket, through a real gRPC client: identity, capabilities, argument
 * validation and error codes that need no gateway, and UNAVAILABLE when the gateway cannot be reached (a loopback port
 * nothing listens on). Calls that need a running gateway are in {@link ControllerGatewayTest}. Its metrics page is on a
 * loopback port: real CSI calls change the scraped counts of their own method and code, and their time is summed.
 */
class ControllerModeSocketTest {
    @TempDir
    static Path tmp;
    static ConfigurableApplicationContext app;
    static CsiClient csi;
    static int metricsPort;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        Path socket = tmp.resolve("csi-controller.sock");
        app = new SpringApplicationBuilder(CsiApplication.class).run("--javastor.csi.mode=controller",
                "--javastor.csi.endpoint=" + socket, "--javastor.csi.rest-url=http://127.0.0.1:" + FreePorts.next(),
                "--javastor.csi.rest-timeout=3s", "--javastor.csi.metrics-port=0");
        assertThat(Files.exists(socket)).as("socket bound").isTrue();
        metricsPort = app.getBean(MetricsEndpoint.class).port();
        csi = new CsiClient(socket, 20);
    }

    @AfterAll
    static void stop() throws Exception {
        csi.close();
        app.close();
    }

    @Test
    void identityAnswersNameVersionCapabilitiesAndReadiness() {
        var info = csi.identity().getPluginInfo(GetPluginInfoRequest.getDefaultInstance());
        assertThat(info.getName()).isEqualTo("io.javastor.csi");
        assertThat(info.getVendorVersion()).isNotBlank();
        assertThat(info.getManifestMap()).containsEntry("mode", "controller");
        var caps = csi.identity().getPluginCapabilities(GetPluginCapabilitiesRequest.getDefaultInstance()).getCapabilitiesList();
        assertThat(caps).extracting(c -> c.getService().getType()).contains(PluginCapability.Service.Type.CONTROLLER_SERVICE,
                PluginCapability.Service.Type.VOLUME_ACCESSIBILITY_CONSTRAINTS);
        assertThat(caps).extracting(c -> c.getVolumeExpansion().getType()).contains(PluginCapability.VolumeExpansion.Type.ONLINE);
        assertThat(csi.identity().probe(ProbeRequest.getDefaultInstance()).getReady().getValue()).isTrue();
    }

    @Test
    void controllerCapabilitiesAndNoNodeServiceOnTheControllerSocket() {
        assertThat(csi.controller().controllerGetCapabilities(ControllerGetCapabilitiesRequest.getDefaultInstance()).getCapabilitiesList())
                .extracting(c -> c.getRpc().getType()).containsExactlyInAnyOrder(
                        ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME, ControllerServiceCapability.RPC.Type.PUBLISH_UNPUBLISH_VOLUME,
                        ControllerServiceCapability.RPC.Type.LIST_VOLUMES, ControllerServiceCapability.RPC.Type.GET_CAPACITY,
                        ControllerServiceCapability.RPC.Type.EXPAND_VOLUME, ControllerServiceCapability.RPC.Type.CREATE_DELETE_SNAPSHOT,
                        ControllerServiceCapability.RPC.Type.LIST_SNAPSHOTS, ControllerServiceCapability.RPC.Type.CLONE_VOLUME);
        fails(Status.Code.UNIMPLEMENTED, "NodeGetInfo", () -> csi.node().nodeGetInfo(NodeGetInfoRequest.getDefaultInstance()));
    }

    @Test
    void createVolumeValidatesEveryFieldBeforeCallingTheGateway() {
        CreateVolumeRequest ok = CreateVolumeRequest.newBuilder().setName("pvc-1").addVolumeCapabilities(Caps.mount("ext4")).build();
        fails(Status.Code.INVALID_ARGUMENT, "name", () -> csi.controller().createVolume(ok.toBuilder().clearName().build()));
        fails(Status.Code.INVALID_ARGUMENT, "volume_capabilities", () -> csi.controller().createVolume(ok.toBuilder().clearVolumeCapabilities().build()));
        fails(Status.Code.INVALID_ARGUMENT, "volume_capabilities[0].access_mode", () -> csi.controller().createVolume(ok.toBuilder()
                .setVolumeCapabilities(0, Caps.mount("ext4").toBuilder().clearAccessMode()).build()));
        fails(Status.Code.INVALID_ARGUMENT, "volume_capabilities[0].access_type", () -> csi.controller().createVolume(ok.toBuilder()
                .setVolumeCapabilities(0, Caps.mount("ext4").toBuilder().clearMount()).build()));
        for (VolumeCapability.AccessMode.Mode multi : new VolumeCapability.AccessMode.Mode[] {VolumeCapability.AccessMode.Mode.MULTI_NODE_MULTI_WRITER,
                VolumeCapability.AccessMode.Mode.MULTI_NODE_READER_ONLY, VolumeCapability.AccessMode.Mode.MULTI_NODE_SINGLE_WRITER}) {
            fails(Status.Code.INVALID_ARGUMENT, multi.name(), () -> csi.controller().createVolume(ok.toBuilder()
                    .addVolumeCapabilities(Caps.block(multi)).build()));
        }
        fails(Status.Code.INVALID_ARGUMENT, "parameters.repl", () -> csi.controller().createVolume(ok.toBuilder().putParameters("repl", "0").build()));
        fails(Status.Code.INVALID_ARGUMENT, "parameters.repl", () -> csi.controller().createVolume(ok.toBuilder().putParameters("repl", "three").build()));
        fails(Status.Code.INVALID_ARGUMENT, "parameters.protocol", () -> csi.controller().createVolume(ok.toBuilder().putParameters("protocol", "iscsi").build()));
        fails(Status.Code.INVALID_ARGUMENT, "parameters.thin", () -> csi.controller().createVolume(ok.toBuilder().putParameters("thin", "yes").build()));
        fails(Status.Code.INVALID_ARGUMENT, "parameters.fsType", () -> csi.controller().createVolume(ok.toBuilder().putParameters("fsType", "ntfs").build()));
        fails(Status.Code.INVALID_ARGUMENT, "parameters.ioTimeout", () -> csi.controller().createVolume(ok.toBuilder().putParameters("ioTimeout", "-1").build()));
        fails(Status.Code.INVALID_ARGUMENT, "parameters.poolAffinityTopologyLabel", () -> csi.controller().createVolume(ok.toBuilder()
                .putParameters("poolAffinityTopologyLabel", "no-separator").build()));
        fails(Status.Code.INVALID_ARGUMENT, "volume_content_source", () -> csi.controller().createVolume(ok.toBuilder()
                .setVolumeContentSource(VolumeContentSource.getDefaultInstance()).build()));
        fails(Status.Code.INVALID_ARGUMENT, "volume_content_source.volume.volume_id", () -> csi.controller().createVolume(ok.toBuilder()
                .setVolumeContentSource(VolumeContentSource.newBuilder().setVolume(VolumeContentSource.VolumeSource.getDefaultInstance())).build()));
        fails(Status.Code.INVALID_ARGUMENT, "volume_content_source.snapshot.snapshot_id", () -> csi.controller().createVolume(ok.toBuilder()
                .setVolumeContentSource(VolumeContentSource.newBuilder().setSnapshot(VolumeContentSource.SnapshotSource.getDefaultInstance())).build()));
        fails(Status.Code.INVALID_ARGUMENT, "capacity_range", () -> csi.controller().createVolume(ok.toBuilder()
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(-1)).build()));
        fails(Status.Code.OUT_OF_RANGE, "limit_bytes", () -> csi.controller().createVolume(ok.toBuilder()
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(10L << 20).setLimitBytes(5L << 20)).build()));
        fails(Status.Code.OUT_OF_RANGE, "no whole MiB", () -> csi.controller().createVolume(ok.toBuilder()
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes((1L << 20) + 1).setLimitBytes((1L << 20) + 2)).build()));
    }

    @Test
    void otherControllerCallsNameTheMissingField() {
        fails(Status.Code.INVALID_ARGUMENT, "volume_id", () -> csi.controller().deleteVolume(DeleteVolumeRequest.getDefaultInstance()));
        ControllerPublishVolumeRequest pub = ControllerPublishVolumeRequest.newBuilder().setVolumeId(ControllerService.volumeUuid("a"))
                .setNodeId("node-1").setVolumeCapability(Caps.mount("ext4")).build();
        fails(Status.Code.INVALID_ARGUMENT, "volume_id", () -> csi.controller().controllerPublishVolume(pub.toBuilder().clearVolumeId().build()));
        fails(Status.Code.INVALID_ARGUMENT, "node_id", () -> csi.controller().controllerPublishVolume(pub.toBuilder().clearNodeId().build()));
        fails(Status.Code.INVALID_ARGUMENT, "volume_capability", () -> csi.controller().controllerPublishVolume(pub.toBuilder().clearVolumeCapability().build()));
        fails(Status.Code.INVALID_ARGUMENT, "capacity_range", () -> csi.controller().controllerExpandVolume(ControllerExpandVolumeRequest.newBuilder()
                .setVolumeId(ControllerService.volumeUuid("a")).build()));
        fails(Status.Code.INVALID_ARGUMENT, "max_entries", () -> csi.controller().listVolumes(ListVolumesRequest.newBuilder().setMaxEntries(-1).build()));
        fails(Status.Code.INVALID_ARGUMENT, "volume_capabilities", () -> csi.controller().validateVolumeCapabilities(
                ValidateVolumeCapabilitiesRequest.newBuilder().setVolumeId(ControllerService.volumeUuid("a")).build()));
    }

    @Test
    void aGatewayThatCannotBeReachedIsUnavailable() {
        fails(Status.Code.UNAVAILABLE, "unreachable", () -> csi.controller().createVolume(CreateVolumeRequest.newBuilder().setName("pvc-2")
                .addVolumeCapabilities(Caps.mount("ext4")).build()));
        fails(Status.Code.UNAVAILABLE, "unreachable", () -> csi.controller().listVolumes(ListVolumesRequest.getDefaultInstance()));
    }

    @Test
    void volumeIdsAreDerivedFromTheNameSoRetriesAreIdempotent() {
        assertThat(ControllerService.volumeUuid("pvc-a")).isEqualTo(ControllerService.volumeUuid("pvc-a"))
                .isNotEqualTo(ControllerService.volumeUuid("pvc-b")).matches("[0-9a-f-]{36}");
    }

    @Test
    void callsAreCountedByMethodAndCodeAndTimed() throws Exception {
        String before = scrape();
        double probes = count(before, "Probe", "OK");
        double invalid = count(before, "CreateVolume", "INVALID_ARGUMENT");
        double unavailable = count(before, "CreateVolume", "UNAVAILABLE");

        for (int i = 0; i < 3; i++) {
            csi.identity().probe(ProbeRequest.getDefaultInstance());
        }
        fails(Status.Code.INVALID_ARGUMENT, "name", () -> csi.controller().createVolume(CreateVolumeRequest.getDefaultInstance()));
        fails(Status.Code.UNAVAILABLE, "unreachable", () -> csi.controller().createVolume(CreateVolumeRequest.newBuilder()
                .setName("pvc-metrics").addVolumeCapabilities(Caps.mount("ext4")).build()));

        String after = scrape();
        assertThat(count(after, "Probe", "OK")).isEqualTo(probes + 3);
        assertThat(count(after, "CreateVolume", "INVALID_ARGUMENT")).isEqualTo(invalid + 1);
        assertThat(count(after, "CreateVolume", "UNAVAILABLE")).isEqualTo(unavailable + 1);
        // The unreachable gateway's call took a measurable time (a refused connection at least).
        assertThat(value(after, "javastor_csi_calls_seconds_sum", "CreateVolume", "UNAVAILABLE")).isGreaterThan(0);
        assertThat(after).contains("javastor_csi_calls_seconds_max{");
    }

    @Test
    void onlyGetIsServedOnTheMetricsPageAndItIsOnLoopback() throws Exception {
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(app.getBean(CsiProperties.class).getMetricsAddress()).isEqualTo("127.0.0.1");
    }

    private static String scrape() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    private static double count(String page, String method, String code) {
        return value(page, "javastor_csi_calls_seconds_count", method, code);
    }

    /** A series' value, 0 when absent (Micrometer registers a method/code pair at its first call). */
    private static double value(String page, String series, String method, String code) {
        Pattern line = Pattern.compile("^" + series + "\\{([^}]*)} (\\S+)$", Pattern.MULTILINE);
        Matcher m = line.matcher(page);
        while (m.find()) {
            String labels = m.group(1);
            if (labels.contains("method=\"" + method + "\"") && labels.contains("code=\"" + code + "\"")) {
                return Double.parseDouble(m.group(2));
            }
        }
        return 0;
    }
}
