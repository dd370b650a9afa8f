package io.javastor.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import io.javastor.gateway.testsupport.RunningGateway;
import io.javastor.gateway.testsupport.RunningGateway.Reply;
import io.javastor.gateway.testsupport.StorageCluster;

/** Bearer-token auth switched on: a second gateway in front of the shared cluster's agent. */
class AuthTest {

    @RegisterExtension
    static final StorageCluster cluster = new StorageCluster();

    private static final String SECRET = "a-test-secret-of-at-least-32-bytes-long!";
    private static RunningGateway gateway;

    @BeforeAll
    static void start() {
        gateway = RunningGateway.start(cluster.agentAddress(), Map.of("javastor.gateway.auth.enabled", "true",
                "javastor.gateway.auth.jwt-secret", SECRET));
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    private static String token(String secret, Instant expires) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256),
                new JWTClaimsSet.Builder().subject("operator").expirationTime(Date.from(expires)).build());
        jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
        return jwt.serialize();
    }

    private static Reply get(String path, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + path)).GET();
        return gateway.send(b, token == null ? Map.of() : Map.of("Authorization", "Bearer " + token));
    }

    @Test
    void v0NeedsAValidTokenWhileHealthAndTheDocumentStayOpen() throws Exception {
        Reply none = get("/v0/nodes", null);
        assertThat(none.status()).isEqualTo(401);
        assertThat(none.kind()).isEqualTo("Unauthorized");
        assertThat(none.contentType()).startsWith("application/json");

        Reply forged = get("/v0/nodes", token("another-secret-that-is-32-bytes-or-more", Instant.now().plusSeconds(60)));
        assertThat(forged.status()).isEqualTo(401);
        assertThat(forged.kind()).isEqualTo("Unauthorized");

        Reply expired = get("/v0/nodes", token(SECRET, Instant.now().minusSeconds(3600)));
        assertThat(expired.status()).isEqualTo(401);

        Reply ok = get("/v0/nodes", token(SECRET, Instant.now().plusSeconds(60)));
        assertThat(ok.status()).as("%s", ok).isEqualTo(200);
        assertThat(ok.json().size()).isEqualTo(StorageCluster.NODES.size());

        assertThat(get("/actuator/health", null).status()).isEqualTo(200);
        assertThat(get("/v0/api-docs", null).status()).isEqualTo(200);
        assertThat(get("/swagger-ui/index.html", null).status()).isEqualTo(200);
    }
}
