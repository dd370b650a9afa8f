package io.javastor.operator.rest;

import io.javastor.api.rest.BearerTokenFile;
import io.javastor.api.tls.ClusterTls;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The pool part of the v0 REST API (services/rest-gateway): PUT/DELETE/GET
 * {@code /v0/nodes/{node}/pools/{pool}} and GET {@code /v0/pools/{pool}}. Every call has a deadline.
 */
public final class PoolsApi {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final Duration timeout;
    private final HttpClient http;
    private final BearerTokenFile token;

    /** @param caFile the cluster CA the gateway's HTTPS certificate chains to (an https:// base needs it), or null */
    public PoolsApi(URI base, Duration timeout, BearerTokenFile token, java.nio.file.Path caFile) {
        this.token = token;
        this.base = base;
        this.timeout = timeout;
        HttpClient.Builder http = HttpClient.newBuilder().connectTimeout(timeout);
        if ("https".equals(base.getScheme())) {
            if (caFile == null) {
                throw new IllegalStateException("javastor.operator.rest-ca-file is required for the https REST URL " + base
                        + " (the cluster CA the gateway's certificate comes from)");
            }
            http.sslContext(ClusterTls.trustingCa(caFile));
        }
        this.http = http.build();
    }

    /** The pool wherever it lives (so a pool on another node than the spec says is seen too). */
    public Optional<RestPool> find(String pool) {
        try {
            return Optional.of(parse(send(HttpRequest.newBuilder(uri("/v0/pools/" + enc(pool))).GET())));
        } catch (RestFailure f) {
            if (f.notFound()) {
                return Optional.empty();
            }
            throw f;
        }
    }

    /** Creates the pool, or imports it when the disk already holds it; repeating it with the same disks answers the same pool. */
    public RestPool create(String node, String pool, List<String> disks) {
        String body;
        try {
            body = JSON.writeValueAsString(Map.of("disks", disks));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return parse(send(HttpRequest.newBuilder(uri("/v0/nodes/" + enc(node) + "/pools/" + enc(pool)))
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(body))));
    }

    /** Destroys the pool; one that is gone already counts as destroyed. */
    public void destroy(String node, String pool) {
        try {
            send(HttpRequest.newBuilder(uri("/v0/nodes/" + enc(node) + "/pools/" + enc(pool))).DELETE());
        } catch (RestFailure f) {
            if (!f.notFound()) {
                throw f;
            }
        }
    }

    private URI uri(String path) {
        return base.resolve(path);
    }

    private static String enc(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private JsonNode send(HttpRequest.Builder request) {
        try {
            token.authorization().ifPresent(value -> request.header("Authorization", value));
        } catch (IllegalStateException e) {
            throw new RestFailure(401, "Unauthorized", e.getMessage(), e);
        }
        HttpResponse<String> r;
        try {
            r = http.send(request.timeout(timeout).header("Accept", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new RestFailure(0, "Unavailable", base + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RestFailure(0, "Unavailable", "interrupted", e);
        }
        JsonNode body = readTree(r.body());
        if (r.statusCode() / 100 != 2) {
            String kind = body.path("kind").asText("Http" + r.statusCode());
            String message = body.path("message").asText(r.body());
            throw new RestFailure(r.statusCode(), kind, message, null);
        }
        return body;
    }

    private static JsonNode readTree(String text) {
        if (text == null || text.isBlank()) {
            return JSON.createObjectNode();
        }
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }

    static RestPool parse(JsonNode p) {
        JsonNode spec = p.path("spec");
        JsonNode st = p.path("state");
        List<String> disks = new ArrayList<>();
        spec.path("disks").forEach(d -> disks.add(d.asText()));
        if (disks.isEmpty()) {
            st.path("disks").forEach(d -> disks.add(d.asText()));
        }
        String node = spec.path("node").asText(st.path("node").asText(null));
        RestPool.State state = st.isObject() && st.has("status")
                ? new RestPool.State(st.path("status").asText(), st.path("capacity").asLong(), st.path("used").asLong(),
                        st.path("committed").asLong())
                : null;
        return new RestPool(p.path("id").asText(), node, List.copyOf(disks), spec.path("status").asText(null), state);
    }
}
