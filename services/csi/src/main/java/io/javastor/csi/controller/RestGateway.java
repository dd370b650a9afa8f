package io.javastor.csi.controller;

import io.javastor.api.rest.BearerTokenFile;
import io.javastor.api.tls.ClusterTls;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

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
import java.util.Optional;

/** A small client of the REST gateway's v0 API (the shapes of issue 6 / Mayastor v0). */
public class RestGateway {
    /** A non-2xx answer (or no answer: status 0) with the gateway's error body {kind, message, details}. */
    public static final class RestError extends RuntimeException {
        private final int status;
        private final String kind;

        RestError(int status, String kind, String message) {
            super(message);
            this.status = status;
            this.kind = kind;
        }

        public int status() { return status; }
        public String kind() { return kind; }
    }

    /** One page of GET /volumes. */
    public record Page(List<JsonNode> entries, String nextToken) {
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final URI base;
    private final Duration timeout;
    private final HttpClient http;
    private final BearerTokenFile token;

    /** @param caFile the cluster CA the gateway's HTTPS certificate chains to (an https:// baseUrl needs it), or null */
    public RestGateway(String baseUrl, Duration timeout, BearerTokenFile token, java.nio.file.Path caFile) {
        this.token = token;
        String b = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.base = URI.create(b + "/v0");
        this.timeout = timeout;
        HttpClient.Builder http = HttpClient.newBuilder().connectTimeout(timeout);
        if (b.startsWith("https://")) {
            if (caFile == null) {
                throw new IllegalStateException("javastor.csi.rest-ca-file is required for the https REST URL " + baseUrl
                        + " (the cluster CA the gateway's certificate comes from)");
            }
            http.sslContext(ClusterTls.trustingCa(caFile));
        }
        this.http = http.build();
    }

    public static ObjectNode object() {
        return JSON.createObjectNode();
    }

    public Optional<JsonNode> getVolume(String uuid) {
        try {
            return Optional.of(call("GET", "/volumes/" + uuid, null));
        } catch (RestError e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** Whether a CSI node plugin registered this node (GET /v0/app-nodes/{id}); false on 404. */
    public boolean appNodeRegistered(String id) {
        try {
            call("GET", "/app-nodes/" + java.net.URLEncoder.encode(id, java.nio.charset.StandardCharsets.UTF_8), null);
            return true;
        } catch (RestError e) {
            if (e.status() == 404) {
                return false;
            }
            throw e;
        }
    }

    public JsonNode putVolume(String uuid, JsonNode body) {
        return call("PUT", "/volumes/" + uuid, body);
    }

    /** true when deleted, false when there was nothing to delete. */
    public boolean deleteVolume(String uuid) {
        try {
            call("DELETE", "/volumes/" + uuid, null);
            return true;
        } catch (RestError e) {
            if (e.status() == 404) {
                return false;
            }
            throw e;
        }
    }

    public Page listVolumes(int maxEntries, String startingToken) {
        StringBuilder q = new StringBuilder("/volumes");
        String sep = "?";
        if (maxEntries > 0) {
            q.append(sep).append("max_entries=").append(maxEntries);
            sep = "&";
        }
        if (startingToken != null && !startingToken.isEmpty()) {
            q.append(sep).append("starting_token=").append(URLEncoder.encode(startingToken, StandardCharsets.UTF_8));
        }
        JsonNode page = call("GET", q.toString(), null);
        List<JsonNode> entries = new ArrayList<>();
        page.path("entries").forEach(entries::add);
        JsonNode next = page.get("next_token");
        return new Page(entries, next == null || next.isNull() ? "" : next.asString());
    }

    public JsonNode publish(String uuid, JsonNode body) {
        return call("PUT", "/volumes/" + uuid + "/target", body);
    }

    public JsonNode unpublish(String uuid) {
        return call("DELETE", "/volumes/" + uuid + "/target", null);
    }

    public JsonNode resize(String uuid, long size) {
        return call("PUT", "/volumes/" + uuid + "/size", object().put("size", size));
    }

    // ---------------------------------------------------------------- snapshots

    public Optional<JsonNode> getSnapshot(String snapshotId) {
        try {
            return Optional.of(call("GET", "/volumes/snapshots/" + snapshotId, null));
        } catch (RestError e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    public JsonNode putSnapshot(String volumeId, String snapshotId) {
        return call("PUT", "/volumes/" + volumeId + "/snapshots/" + snapshotId, null);
    }

    public void deleteSnapshot(String snapshotId) {
        call("DELETE", "/volumes/snapshots/" + snapshotId, null);
    }

    /** Snapshots oldest first, of one volume when {@code volumeId} is not empty; paged like {@link #listVolumes}. */
    public Page listSnapshots(String volumeId, int maxEntries, String startingToken) {
        StringBuilder q = new StringBuilder("/volumes/snapshots?max_entries=").append(maxEntries);
        if (!volumeId.isEmpty()) {
            q.append("&volume_id=").append(volumeId);
        }
        if (startingToken != null && !startingToken.isEmpty()) {
            q.append("&starting_token=").append(URLEncoder.encode(startingToken, StandardCharsets.UTF_8));
        }
        JsonNode page = call("GET", q.toString(), null);
        List<JsonNode> entries = new ArrayList<>();
        page.path("entries").forEach(entries::add);
        JsonNode next = page.get("next_token");
        return new Page(entries, next == null || next.isNull() ? "" : next.asString());
    }

    public JsonNode putSnapshotVolume(String snapshotId, String volumeId, JsonNode body) {
        return call("PUT", "/snapshots/" + snapshotId + "/volumes/" + volumeId, body);
    }

    public JsonNode setReplicaCount(String volumeId, int count) {
        return call("PUT", "/volumes/" + volumeId + "/replica_count/" + count, null);
    }

    public List<JsonNode> pools() {
        List<JsonNode> out = new ArrayList<>();
        call("GET", "/pools", null).forEach(out::add);
        return out;
    }

    private JsonNode call(String method, String path, JsonNode body) {
        HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout).header("Accept", "application/json");
        try {
            token.authorization().ifPresent(value -> rb.header("Authorization", value));
        } catch (IllegalStateException e) {
            throw new RestError(401, "Unauthorized", e.getMessage());
        }
        if (body != null) {
            rb.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        } else {
            rb.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> r;
        try {
            r = http.send(rb.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new RestError(0, "Unavailable", "REST gateway " + base + " unreachable: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RestError(0, "Unavailable", "interrupted");
        }
        String text = r.body() == null ? "" : r.body();
        if (r.statusCode() / 100 == 2) {
            return text.isBlank() ? object() : JSON.readTree(text);
        }
        String kind = "Unknown";
        String message = method + " " + path + " answered " + r.statusCode();
        try {
            JsonNode err = JSON.readTree(text);
            kind = err.path("kind").asString(kind);
            message = message + ": " + err.path("message").asString("") + " " + err.path("details").asString("");
        } catch (RuntimeException e) {
            message = message + ": " + text;
        }
        throw new RestError(r.statusCode(), kind, message.strip());
    }
}
