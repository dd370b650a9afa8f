package io.javastor.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import io.javastor.gateway.security.ApiRole;
import io.javastor.gateway.testsupport.RunningGateway;
import io.javastor.gateway.testsupport.RunningGateway.Reply;
import io.javastor.gateway.testsupport.StorageCluster;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Kubernetes tokens: the gateway asks the API server who a token is (TokenReview) and whether RBAC gives that user
 * the role a call needs (SubjectAccessReview, verb ROLE on api.javastor.io). No kube-apiserver can run on these
 * machines (Debian has none and kube-api-test downloads it), so a loopback HTTP server answers both reviews the way
 * the API server's documented v1 shapes do, with RBAC bound as the chart binds it: the CSI controller's account is
 * an operator, a stranger's is authenticated but bound to nothing. It checks the gateway presents its own account's
 * token, and counts the reviews.
 */
class KubernetesAuthTest {

    @RegisterExtension
    static final StorageCluster cluster = new StorageCluster();

    @TempDir
    static Path tmp;

    private static final String GATEWAY_OWN_TOKEN = "gateway-serviceaccount-token";
    private static final String CSI = "system:serviceaccount:javastor:javastor-csi-controller";
    private static final Map<String, String> USERS = Map.of("csi-sa-token", CSI, "stranger-token", "system:serviceaccount:other:app");
    private static final Map<String, Set<String>> RBAC = Map.of(CSI, Set.of("viewer", "operator"));
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static HttpServer apiServer;
    private static RunningGateway gateway;
    private static final List<String> reviews = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws IOException {
        apiServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        apiServer.createContext("/", KubernetesAuthTest::answer);
        apiServer.start();
        Path own = Files.writeString(tmp.resolve("token"), GATEWAY_OWN_TOKEN + "\n");
        gateway = RunningGateway.start(cluster.agentAddress(), Map.of("javastor.gateway.auth.kubernetes.enabled", "true",
                "javastor.gateway.auth.kubernetes.api-server", "http://127.0.0.1:" + apiServer.getAddress().getPort(),
                "javastor.gateway.auth.kubernetes.token-file", own.toString(),
                "javastor.gateway.auth.kubernetes.ca-file", tmp.resolve("no-ca.crt").toString(),
                "javastor.gateway.auth.kubernetes.cache-for", "1h"));
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (apiServer != null) {
            apiServer.stop(0);
        }
    }

    private static void answer(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        JsonNode body = JSON.readTree(ex.getRequestBody().readAllBytes());
        String reply;
        int status = 201;
        if (!("Bearer " + GATEWAY_OWN_TOKEN).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
            status = 401;
            reply = "{\"kind\":\"Status\",\"code\":401}";
        } else if (ex.getRequestMethod().equals("POST") && path.equals("/apis/authentication.k8s.io/v1/tokenreviews")) {
            String user = USERS.get(body.path("spec").path("token").asString());
            reviews.add("TokenReview " + user);
            reply = user == null ? "{\"kind\":\"TokenReview\",\"status\":{\"authenticated\":false,\"error\":\"invalid\"}}"
                    : "{\"kind\":\"TokenReview\",\"status\":{\"authenticated\":true,\"user\":{\"username\":\"" + user
                            + "\",\"uid\":\"" + UUID.nameUUIDFromBytes(user.getBytes()) + "\",\"groups\":[\"system:serviceaccounts\","
                            + "\"system:authenticated\"]}}}";
        } else if (ex.getRequestMethod().equals("POST") && path.equals("/apis/authorization.k8s.io/v1/subjectaccessreviews")) {
            JsonNode spec = body.path("spec");
            JsonNode attributes = spec.path("resourceAttributes");
            String verb = attributes.path("verb").asString();
            boolean allowed = attributes.path("group").asString().equals("javastor.io") && attributes.path("resource").asString().equals("api")
                    && RBAC.getOrDefault(spec.path("user").asString(), Set.of()).contains(verb);
            reviews.add("SubjectAccessReview " + spec.path("user").asString() + " " + verb);
            reply = "{\"kind\":\"SubjectAccessReview\",\"status\":{\"allowed\":" + allowed + "}}";
        } else {
            status = 404;
            reply = "{\"kind\":\"Status\",\"code\":404}";
        }
        byte[] bytes = reply.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
        ex.close();
    }

    private static Reply call(String method, String path, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + path))
                .method(method, method.equals("PUT") ? HttpRequest.BodyPublishers.ofString("{}") : HttpRequest.BodyPublishers.noBody());
        return gateway.sendWithoutToken(b, Map.of("Authorization", "Bearer " + token, "Content-Type", "application/json"));
    }

    @Test
    void aServiceAccountGetsWhatRbacGivesItAndAnswersAreCached() {
        reviews.clear();
        assertThat(call("GET", "/v0/nodes", "csi-sa-token").status()).isEqualTo(200);
        assertThat(call("GET", "/v0/pools", "csi-sa-token").status()).isEqualTo(200);
        assertThat(reviews).as("one review of the token and one of the role, then the cache").containsExactly(
                "TokenReview " + CSI, "SubjectAccessReview " + CSI + " viewer");

        Reply volume = call("PUT", "/v0/volumes/" + UUID.randomUUID(), "csi-sa-token");
        assertThat(volume.status()).as("an operator's call gets past authorization (the empty body is then refused): %s", volume)
                .isEqualTo(400);
        call("PUT", "/v0/nodes/node-1/pools/k8s-test", "csi-sa-token").assertError(403, "Forbidden",
                "Kubernetes RBAC does not give '" + CSI + "' verb admin on api.javastor.io");
    }

    @Test
    void aTokenKubernetesDoesNotKnowOrAUserWithoutBindingsIsRefused() {
        call("GET", "/v0/nodes", "made-up-token").assertError(401, "Unauthorized", "Kubernetes did not authenticate the token");
        call("GET", "/v0/nodes", "stranger-token").assertError(403, "Forbidden", "does not give 'system:serviceaccount:other:app' verb viewer");
    }

    @Test
    void ourOwnTokensStillWork() {
        Reply r = gateway.sendWithoutToken(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v0/nodes")).GET(),
                Map.of("Authorization", "Bearer " + gateway.token(ApiRole.VIEWER)));
        assertThat(r.status()).as("%s", r).isEqualTo(200);
    }
}
