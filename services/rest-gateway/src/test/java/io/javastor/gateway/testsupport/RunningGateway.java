package io.javastor.gateway.testsupport;

import io.javastor.api.tls.ClusterPeer;
import io.javastor.testsupport.ClusterCertificates;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import io.javastor.gateway.RestGatewayApplication;
import io.javastor.gateway.security.ApiRole;
import io.javastor.gateway.security.TokenIssuer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The whole gateway (the Spring Boot app) in this JVM on a random loopback port, with a small HTTP client. Auth is
 * on, as in production: each gateway gets its own random signing key, and the client sends an admin token unless a
 * call names its own Authorization header (or none, with {@link #sendWithoutToken}).
 */
public final class RunningGateway implements AutoCloseable {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final SecureRandom RANDOM = new SecureRandom();
    private final ConfigurableApplicationContext context;
    private final HttpClient http;
    private final String base;
    private final String signingKey;
    private final String adminToken;

    private RunningGateway(ConfigurableApplicationContext context, String signingKey) {
        this.context = context;
        boolean tls = !"false".equals(context.getEnvironment().getProperty("javastor.tls.enabled"));
        // HTTPS with the gateway's certificate from the tests' cluster CA, as in production
        this.base = (tls ? "https" : "http") + "://127.0.0.1:" + context.getEnvironment().getProperty("local.server.port");
        HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        this.http = (tls ? client.sslContext(ClusterCertificates.shared().httpsClient()) : client).build();
        this.signingKey = signingKey;
        this.adminToken = signingKey == null ? null : token(ApiRole.ADMIN);
    }

    public static RunningGateway start(String agentAddresses, Map<String, String> overrides) {
        Map<String, String> props = new HashMap<>();
        props.put("server.port", "0");
        props.put("javastor.gateway.core-agent.addresses", agentAddresses);
        props.put("javastor.gateway.core-agent.call-timeout", "20s");
        byte[] random = new byte[36];
        RANDOM.nextBytes(random);
        props.put("javastor.gateway.auth.jwt-secret", Base64.getEncoder().encodeToString(random));
        props.putAll(ClusterCertificates.shared().springProperties(ClusterPeer.REST_GATEWAY)); // mTLS, as in production
        props.putAll(overrides);
        String key = "false".equals(props.get("javastor.gateway.auth.enabled")) ? null : props.get("javastor.gateway.auth.jwt-secret");
        String[] args = props.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
        return new RunningGateway(new SpringApplicationBuilder(RestGatewayApplication.class).run(args), key);
    }

    /** A token with this role, signed with this gateway's key, valid for an hour. */
    public String token(ApiRole role) {
        return TokenIssuer.issue(signingKey.getBytes(StandardCharsets.UTF_8), "test-" + role.claim(), role, Duration.ofHours(1));
    }

    /** The "Authorization" header value of the admin token every call sends by default. */
    public String adminAuthorization() {
        return "Bearer " + adminToken;
    }

    public String baseUrl() {
        return base;
    }

    public <T> T bean(Class<T> type) {
        return context.getBean(type);
    }

    public Reply get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET(), Map.of());
    }

    public Reply delete(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE(), Map.of());
    }

    public Reply put(String path, Object body) {
        String text = body instanceof String s ? s : JSON.writeValueAsString(body);
        return send(HttpRequest.newBuilder(URI.create(base + path)).PUT(HttpRequest.BodyPublishers.ofString(text)),
                Map.of("Content-Type", "application/json"));
    }

    public Reply put(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).PUT(HttpRequest.BodyPublishers.noBody()), Map.of());
    }

    /** Sends with these headers, and the admin token unless they name an Authorization header themselves. */
    public Reply send(HttpRequest.Builder request, Map<String, String> headers) {
        if (adminToken != null && headers.keySet().stream().noneMatch("Authorization"::equalsIgnoreCase)) {
            request.header("Authorization", adminAuthorization());
        }
        return sendWithoutToken(request, headers);
    }

    /** Sends with these headers only. */
    public Reply sendWithoutToken(HttpRequest.Builder request, Map<String, String> headers) {
        headers.forEach(request::header);
        try {
            long start = System.nanoTime();
            HttpResponse<String> r = http.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.body(), r.headers().firstValue("Content-Type").orElse(""),
                    Duration.ofNanos(System.nanoTime() - start));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** An HTTP answer; {@link #json()} parses the body. */
    public record Reply(int status, String body, String contentType, Duration took) {
        public JsonNode json() {
            return JSON.readTree(body);
        }

        public String kind() {
            return json().path("kind").asString();
        }

        /** An error reply as the API promises it: this status, JSON {kind, message, details}, never a stack trace or HTML. */
        public void assertError(int expectedStatus, String expectedKind, String messagePart) {
            org.assertj.core.api.Assertions.assertThat(status).as("%s", this).isEqualTo(expectedStatus);
            org.assertj.core.api.Assertions.assertThat(contentType).startsWith("application/json");
            org.assertj.core.api.Assertions.assertThat(json().path("kind").asString()).as("%s", this).isEqualTo(expectedKind);
            org.assertj.core.api.Assertions.assertThat(json().path("message").asString()).as("%s", this).contains(messagePart);
            org.assertj.core.api.Assertions.assertThat(json().has("details")).as("%s", this).isTrue();
            org.assertj.core.api.Assertions.assertThat(body).doesNotContain("Exception", "\tat ", "<html");
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    @Override
    public void close() {
        context.close();
    }
}
