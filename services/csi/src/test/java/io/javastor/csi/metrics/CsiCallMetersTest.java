package io.javastor.csi.metrics;

import csi.v1.Csi.CreateVolumeRequest;
import csi.v1.Csi.ProbeRequest;
import io.grpc.Status;
import io.javastor.csi.CsiApplication;
import io.javastor.csi.support.CsiClient;
import io.javastor.testsupport.FreePorts;
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
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.javastor.csi.support.GrpcAssertions.fails;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The controller plugin on a real socket with its metrics page on a loopback port: real CSI calls (a Probe that
 * succeeds, a CreateVolume refused as INVALID_ARGUMENT, one the unreachable gateway makes UNAVAILABLE) change the
 * scraped counts of their own method and code, and their time is summed.
 */
class CsiCallMetersTest {
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
        metricsPort = app.getBean(MetricsEndpoint.class).port();
        csi = new CsiClient(socket, 20);
    }

    @AfterAll
    static void stop() throws Exception {
        csi.close();
        app.close();
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
                .setName("pvc-metrics").addVolumeCapabilities(io.javastor.csi.support.Caps.mount("ext4")).build()));

        String after = scrape();
        assertThat(count(after, "Probe", "OK")).isEqualTo(probes + 3);
        assertThat(count(after, "CreateVolume", "INVALID_ARGUMENT")).isEqualTo(invalid + 1);
        assertThat(count(after, "CreateVolume", "UNAVAILABLE")).isEqualTo(unavailable + 1);
        // The unreachable gateway's call took a measurable time (a refused connection at least).
        assertThat(value(after, "javastor_csi_calls_seconds_sum", "CreateVolume", "UNAVAILABLE")).isGreaterThan(0);
        assertThat(after).contains("javastor_csi_calls_seconds_max{");
    }

    @Test
    void onlyGetIsServedAndTheServerIsOnLoopback() throws Exception {
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(app.getBean(io.javastor.csi.CsiProperties.class).getMetricsAddress()).isEqualTo("127.0.0.1");
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
