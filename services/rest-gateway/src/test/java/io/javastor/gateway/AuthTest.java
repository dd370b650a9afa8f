package io.javastor.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import io.javastor.gateway.security.ApiRole;
import io.javastor.gateway.security.TokenIssuer;
import io.javastor.gateway.testsupport.RunningGateway;
import io.javastor.gateway.testsupport.RunningGateway.Reply;
import io.javastor.gateway.testsupport.StorageCluster;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Authentication and roles, on by default: the shared cluster's gateway runs with them as production does. */
class AuthTest {

    @RegisterExtension
    static final StorageCluster cluster = new StorageCluster();

    /** The policy, stated here from the API's point of view: reads are a viewer's, volume work an operator's, the rest an admin's. */
    /** "/v0/volumes{": Mayastor's spec spells the volume share DELETE without the slash (/volumes{volume_id}/share). */
    /** "/v0/snapshots/": creating a volume from a snapshot is volume work (the CSI controller does it with its operator token). */
    private static final List<String> OPERATOR_PATHS = List.of("/v0/volumes/", "/v0/volumes{", "/v0/watches/volumes/", "/v0/snapshots/");

    private static RunningGateway gw() {
        return cluster.gateway();
    }

    private static Reply call(String method, String path, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gw().baseUrl() + path));
        Map<String, String> headers = new java.util.HashMap<>();
        if (method.equals("PUT")) {
            b.PUT(HttpRequest.BodyPublishers.ofString("{}"));
            headers.put("Content-Type", "application/json");
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        if (token != null) {
            headers.put("Authorization", "Bearer " + token);
        }
        return gw().sendWithoutToken(b, headers);
    }

    private static String signed(String key, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        jwt.sign(new MACSigner(key.getBytes(StandardCharsets.UTF_8)));
        return jwt.serialize();
    }

    @Test
    void v0NeedsAValidTokenWhileHealthAndTheDocumentStayOpen() throws Exception {
        Reply none = call("GET", "/v0/nodes", null);
        none.assertError(401, "Unauthorized", "bearer token");

        String otherKey = "another-secret-that-is-32-bytes-or-more";
        Reply forged = call("GET", "/v0/nodes", TokenIssuer.issue(otherKey.getBytes(StandardCharsets.UTF_8), "x", ApiRole.ADMIN,
                Duration.ofMinutes(1)));
        forged.assertError(401, "Unauthorized", "");

        Reply garbage = call("GET", "/v0/nodes", "not.a.token");
        garbage.assertError(401, "Unauthorized", "");

        Reply ok = call("GET", "/v0/nodes", gw().token(ApiRole.VIEWER));
        assertThat(ok.status()).as("%s", ok).isEqualTo(200);
        assertThat(ok.json().size()).isEqualTo(StorageCluster.NODES.size());

        for (String open : List.of("/actuator/health", "/actuator/health/readiness", "/actuator/prometheus", "/v0/api-docs",
                "/swagger-ui/index.html")) {
            assertThat(call("GET", open, null).status()).as(open).isEqualTo(200);
        }
        assertThat(call("GET", "/actuator/metrics", null).status()).as("metrics details need a token").isEqualTo(401);
    }

    /** The dashboard's files load without a token (its API calls carry one); that opens no other path and no other method. */
    @Test
    void theDashboardsFilesAreOpenAndOpenNothingElse() {
        for (String file : List.of("/ui/", "/ui/index.html", "/ui/app.js", "/ui/api.js", "/ui/dom.js", "/ui/dashboard.css")) {
            Reply r = call("GET", file, null);
            assertThat(r.status()).as("%s: %s", file, r).isEqualTo(200);
            assertThat(r.body()).as(file).isNotBlank();
        }
        Reply bare = call("GET", "/ui", null);
        assertThat(bare.status()).as("/ui redirects to /ui/: %s", bare).isEqualTo(302);
        Reply missing = call("GET", "/ui/no-such-file.js", null);
        assertThat(missing.status()).as("%s", missing).isEqualTo(404);
        call("PUT", "/ui/index.html", null).assertError(401, "Unauthorized", "bearer token");
        call("DELETE", "/ui/app.js", null).assertError(401, "Unauthorized", "bearer token");
        // Paths that climb out of /ui/ are refused before any rule matches (Spring Security's firewall): never the API's answer.
        for (String climb : List.of("/ui/../v0/nodes", "/ui/%2e%2e/v0/nodes", "/ui/%2E%2E%2Fv0/nodes", "/ui/..;/v0/nodes",
                "/ui;/../v0/nodes", "/ui/%2fv0/nodes")) {
            Reply r = gw().sendWithoutToken(HttpRequest.newBuilder(URI.create(gw().baseUrl() + climb)).GET(), Map.of());
            assertThat(r.status()).as("%s: %s", climb, r).isIn(400, 401, 404);
            assertThat(r.body()).as(climb).doesNotContain("grpcEndpoint");
        }
        call("GET", "/v0/nodes", null).assertError(401, "Unauthorized", "bearer token");
    }

    @Test
    void anExpiredTokenOrOneWithoutAKnownRoleIsRefused() throws Exception {
        String key = gw().bean(io.javastor.gateway.security.AuthProperties.class).jwtSecret();
        Reply expired = call("GET", "/v0/nodes", signed(key, new JWTClaimsSet.Builder().subject("old").claim("role", "admin")
                .expirationTime(Date.from(Instant.now().minusSeconds(3600))).build()));
        expired.assertError(401, "Unauthorized", "expired");

        Reply noRole = call("GET", "/v0/nodes", signed(key, new JWTClaimsSet.Builder().subject("nobody").build()));
        noRole.assertError(403, "Forbidden", "'nobody' has role none");

        Reply unknownRole = call("GET", "/v0/nodes", signed(key, new JWTClaimsSet.Builder().subject("root").claim("role", "root").build()));
        unknownRole.assertError(403, "Forbidden", "needs role viewer");
    }

    @Test
    void eachRoleDoesItsWorkAndNoMore() {
        String pool = "/v0/nodes/node-1/pools/auth-test-pool";
        Reply viewerMakesPool = call("PUT", pool, gw().token(ApiRole.VIEWER));
        viewerMakesPool.assertError(403, "Forbidden", "PUT " + pool + " needs role admin or higher; 'test-viewer' has role viewer");

        String volume = "/v0/volumes/" + UUID.randomUUID();
        call("PUT", volume, gw().token(ApiRole.VIEWER)).assertError(403, "Forbidden", "needs role operator");
        String body = "{\"size\":8388608,\"replicas\":1,\"thin\":true,\"policy\":{\"self_heal\":true}}";
        Reply created = gw().send(HttpRequest.newBuilder(URI.create(gw().baseUrl() + volume)).PUT(HttpRequest.BodyPublishers.ofString(body)),
                Map.of("Content-Type", "application/json", "Authorization", "Bearer " + gw().token(ApiRole.OPERATOR)));
        assertThat(created.status()).as("%s", created).isEqualTo(200);
        call("PUT", pool, gw().token(ApiRole.OPERATOR)).assertError(403, "Forbidden", "needs role admin");
        assertThat(call("GET", volume, gw().token(ApiRole.VIEWER)).status()).isEqualTo(200);
        call("DELETE", volume, gw().token(ApiRole.VIEWER)).assertError(403, "Forbidden", "needs role operator");
        assertThat(call("DELETE", volume, gw().token(ApiRole.OPERATOR)).status()).isEqualTo(204);
    }

    static Stream<Arguments> everyOperationOfTheDocument() throws Exception {
        JsonNode doc = JsonMapper.builder().build().readTree(Files.readString(Path.of("src/main/openapi/javastor-v0.json")));
        List<Arguments> out = new ArrayList<>();
        for (var path : doc.path("paths").properties()) {
            for (String method : List.of("get", "put", "post", "delete", "patch")) {
                if (path.getValue().has(method)) {
                    out.add(Arguments.of(method.toUpperCase(), path.getKey()));
                }
            }
        }
        assertThat(out).as("operations in the document").hasSizeGreaterThan(50);
        return out.stream();
    }

    private static final Pattern PARAMETER = Pattern.compile("\\{([a-z_]+)}");

    /** A concrete path for a templated one: ids that name nothing (so no call can change anything). */
    private static String concrete(String template) {
        Matcher m = PARAMETER.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = switch (m.group(1)) {
                case "label" -> "auth-test=x";
                case "key" -> "auth-test";
                case "protocol" -> "nvmf";
                case "replica_count" -> "2";
                default -> UUID.randomUUID().toString();
            };
            m.appendReplacement(out, value);
        }
        m.appendTail(out);
        return out.toString();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("everyOperationOfTheDocument")
    void everyOperationNeedsATokenAndItsRole(String method, String template) {
        String path = concrete(template);
        ApiRole needed = method.equals("GET") ? ApiRole.VIEWER
                : OPERATOR_PATHS.stream().anyMatch(template::startsWith) ? ApiRole.OPERATOR : ApiRole.ADMIN;

        call(method, path, null).assertError(401, "Unauthorized", "bearer token");
        call(method, path, "x.y.z").assertError(401, "Unauthorized", "");
        for (ApiRole role : ApiRole.values()) {
            Reply r = call(method, path, gw().token(role));
            if (role.includes(needed)) {
                assertThat(r.status()).as("%s %s as %s: %s", method, path, role, r).isNotIn(401, 403);
            } else {
                r.assertError(403, "Forbidden", method + " " + path + " needs role " + needed.claim());
            }
        }
    }
}
