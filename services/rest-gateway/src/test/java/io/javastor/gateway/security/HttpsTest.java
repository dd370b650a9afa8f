package io.javastor.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import javax.net.ssl.SSLHandshakeException;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.javastor.api.tls.ClusterTls;
import io.javastor.gateway.testsupport.RunningGateway;
import io.javastor.testsupport.ClusterCertificates;
import io.javastor.testsupport.FreePorts;

/**
 * The REST gateway serves HTTPS only, with its certificate from the cluster CA (issue 16): plaintext HTTP on its port
 * gets no data, a client that does not trust the CA cannot connect, one that does gets the usual answers. No core
 * agent is needed (nothing here reaches it).
 */
class HttpsTest {
    private static RunningGateway gateway;

    @BeforeAll
    static void start() {
        gateway = RunningGateway.start("127.0.0.1:" + FreePorts.next(), Map.of());
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void plaintextHttpGetsNoData() throws Exception {
        String plain = gateway.baseUrl().replace("https://", "http://");
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(plain + "/v0/nodes"))
                .header("Authorization", gateway.adminAuthorization()).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("Tomcat's answer to HTTP on an HTTPS port").isEqualTo(400);
        assertThat(r.body()).doesNotContain("\"id\"");
    }

    @Test
    void aClientThatDoesNotTrustTheClusterCaCannotConnect() {
        // The JDK's default trust store, then another CA: neither signed the gateway's certificate.
        for (HttpClient client : new HttpClient[] {HttpClient.newHttpClient(), HttpClient.newBuilder()
                .sslContext(ClusterTls.trustingCa(ClusterCertificates.newAuthority().dir().resolve("ca.crt"))).build()}) {
            assertThatThrownBy(() -> client.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/actuator/health"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(SSLHandshakeException.class);
        }
    }

    @Test
    void aClientTrustingTheClusterCaGetsTheApi() {
        assertThat(gateway.baseUrl()).startsWith("https://127.0.0.1:");
        assertThat(gateway.get("/actuator/health").status()).isEqualTo(200);
        assertThat(gateway.sendWithoutToken(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v0/nodes")).GET(), Map.of()).status())
                .as("TLS does not replace the token").isEqualTo(401);
    }
}
