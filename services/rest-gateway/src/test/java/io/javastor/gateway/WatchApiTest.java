package io.javastor.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.sun.net.httpserver.HttpServer;

import io.javastor.gateway.testsupport.RunningGateway;
import io.javastor.gateway.testsupport.RunningGateway.Reply;
import io.javastor.gateway.testsupport.StorageCluster;

/** /v0/watches/volumes/{volume_id} against a real core agent, etcd and io-engines, with a real HTTP receiver. */
class WatchApiTest {

    @RegisterExtension
    static final StorageCluster cluster = new StorageCluster();

    private static final long MIB = 1 << 20;
    private static HttpServer receiver;
    /** Paths of the calls the core agent made to the receiver, with their method. */
    private static final List<String> calls = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void startReceiver() throws IOException {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        receiver.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            calls.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath());
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        receiver.start();
    }

    @AfterAll
    static void stopReceiver() {
        if (receiver != null) {
            receiver.stop(0);
        }
    }

    private static RunningGateway gw() {
        return cluster.gateway();
    }

    private static String url(String path) {
        return "http://127.0.0.1:" + receiver.getAddress().getPort() + path;
    }

    private static String watchPath(String volume, String callback) {
        return "/v0/watches/volumes/" + volume + "?callback=" + URLEncoder.encode(callback, StandardCharsets.UTF_8);
    }

    private static String createVolume() {
        String uuid = UUID.randomUUID().toString();
        Reply r = gw().put("/v0/volumes/" + uuid, VolumeApiTest.body(8 * MIB, 1));
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        return uuid;
    }

    @Test
    void registerListAndRemoveAWatch() {
        String volume = createVolume();
        String callback = url("/hook/" + volume);
        Reply put = gw().put(watchPath(volume, callback));
        assertThat(put.status()).as("%s", put).isEqualTo(204);
        assertThat(put.body()).isEmpty();
        // Idempotent: the same callback again succeeds and is listed once.
        assertThat(gw().put(watchPath(volume, callback)).status()).isEqualTo(204);
        Reply listed = gw().get("/v0/watches/volumes/" + volume);
        assertThat(listed.status()).as("%s", listed).isEqualTo(200);
        assertThat(listed.json().size()).isEqualTo(1);
        assertThat(listed.json().get(0).path("resource").asString()).isEqualTo("volumes/" + volume);
        assertThat(listed.json().get(0).path("callback").asString()).isEqualTo(callback);

        Reply deleted = gw().delete(watchPath(volume, callback));
        assertThat(deleted.status()).as("%s", deleted).isEqualTo(204);
        assertThat(gw().get("/v0/watches/volumes/" + volume).json().size()).isZero();
        // Deleting it again: there is no such watch.
        gw().delete(watchPath(volume, callback)).assertError(404, "NotFound", callback);
    }

    @Test
    void aChangeMadeThroughTheApiCallsTheCallback() {
        String volume = createVolume();
        String path = "/changed/" + volume;
        assertThat(gw().put(watchPath(volume, url(path))).status()).isEqualTo(204);
        Reply scaled = gw().put("/v0/volumes/" + volume + "/replica_count/2");
        assertThat(scaled.status()).as("%s", scaled).isEqualTo(200);
        await().atMost(Duration.ofMinutes(2)).until(() -> calls.contains("PUT " + path));
    }

    @Test
    void unknownVolumeIsNotFound() {
        String unknown = UUID.randomUUID().toString();
        gw().get("/v0/watches/volumes/" + unknown).assertError(404, "NotFound", unknown);
        gw().put(watchPath(unknown, url("/x"))).assertError(404, "NotFound", unknown);
        gw().delete(watchPath(unknown, url("/x"))).assertError(404, "NotFound", unknown);
    }

    @Test
    void badInputIsRefusedNamingTheField() {
        String volume = createVolume();
        gw().get("/v0/watches/volumes/not-a-uuid").assertError(400, "InvalidArgument", "volume_id");
        gw().put(watchPath("not-a-uuid", url("/x"))).assertError(400, "InvalidArgument", "volume_id");
        gw().delete(watchPath("not-a-uuid", url("/x"))).assertError(400, "InvalidArgument", "volume_id");
        gw().put("/v0/watches/volumes/" + volume).assertError(400, "InvalidArgument", "callback");
        gw().delete("/v0/watches/volumes/" + volume).assertError(400, "InvalidArgument", "callback");
        for (String bad : List.of("", "not a url", "/relative", "ftp://127.0.0.1/x", "http:///nohost", "http://u:p@127.0.0.1/x",
                "http://127.0.0.1/" + "x".repeat(2048))) {
            gw().put(watchPath(volume, bad)).assertError(400, "InvalidArgument", "callback");
        }
        assertThat(gw().get("/v0/watches/volumes/" + volume).json().size()).isZero();
    }
}
