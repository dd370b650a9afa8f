package io.javastor.gateway.security;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Kubernetes authenticates and authorizes callers that present a Kubernetes token (a ServiceAccount's, or a
 * user's): TokenReview (authentication.k8s.io/v1) says who the token belongs to, SubjectAccessReview
 * (authorization.k8s.io/v1) whether RBAC lets that user have {@link ApiRole} R, asked as verb R on resource
 * {@code api} of group {@code javastor.io} (the chart's javastor-viewer/-operator/-admin ClusterRoles grant them).
 * Answers are kept for {@code cacheFor}, so a busy client costs the API server one review per token and role
 * per period, and a revoked binding takes effect within it.
 */
public final class KubernetesReviews {
    public static final String GROUP = "javastor.io";
    public static final String RESOURCE = "api";

    /** Who a token belongs to, as the API server said. */
    public record User(String name, String uid, List<String> groups, Map<String, List<String>> extra) {
    }

    private record Cached<T>(T value, Instant until) {
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final AuthProperties.Kubernetes config;
    private final HttpClient http;
    private final Clock clock;
    private final Map<String, Cached<Optional<User>>> users = new ConcurrentHashMap<>();
    private final Map<String, Cached<Boolean>> grants = new ConcurrentHashMap<>();

    public KubernetesReviews(AuthProperties.Kubernetes config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.http = HttpClient.newBuilder().connectTimeout(config.timeout()).sslContext(trusting(config)).build();
    }

    /** The token's user, or empty when the API server says it is not authenticated. */
    public Optional<User> authenticate(String token) {
        Cached<Optional<User>> hit = users.get(token);
        if (hit != null && hit.until().isAfter(clock.instant())) {
            return hit.value();
        }
        ObjectNode review = JSON.createObjectNode().put("apiVersion", "authentication.k8s.io/v1").put("kind", "TokenReview");
        ObjectNode spec = review.putObject("spec").put("token", token);
        config.audiences().forEach(spec.putArray("audiences")::add);
        JsonNode status = post("/apis/authentication.k8s.io/v1/tokenreviews", review).path("status");
        Optional<User> user = Optional.empty();
        if (status.path("authenticated").asBoolean(false)) {
            JsonNode u = status.path("user");
            Map<String, List<String>> extra = new java.util.TreeMap<>();
            u.path("extra").properties().forEach(e -> extra.put(e.getKey(), strings(e.getValue())));
            user = Optional.of(new User(u.path("username").asString(), u.path("uid").asString(), strings(u.path("groups")), extra));
        }
        remember(users, token, user);
        return user;
    }

    /** Whether RBAC gives this user the role (verb {@code role} on {@code javastor.io/api}). */
    public boolean allowed(User user, ApiRole role) {
        String key = user.name() + "\n" + user.uid() + "\n" + String.join(",", user.groups()) + "\n" + role.claim();
        Cached<Boolean> hit = grants.get(key);
        if (hit != null && hit.until().isAfter(clock.instant())) {
            return hit.value();
        }
        ObjectNode review = JSON.createObjectNode().put("apiVersion", "authorization.k8s.io/v1").put("kind", "SubjectAccessReview");
        ObjectNode spec = review.putObject("spec").put("user", user.name()).put("uid", user.uid());
        user.groups().forEach(spec.putArray("groups")::add);
        ObjectNode extra = spec.putObject("extra");
        user.extra().forEach((k, v) -> v.forEach(extra.putArray(k)::add));
        spec.putObject("resourceAttributes").put("group", GROUP).put("resource", RESOURCE).put("verb", role.claim());
        boolean allowed = post("/apis/authorization.k8s.io/v1/subjectaccessreviews", review).path("status").path("allowed").asBoolean(false);
        remember(grants, key, allowed);
        return allowed;
    }

    private <T> void remember(Map<String, Cached<T>> cache, String key, T value) {
        if (cache.size() > 10_000) {
            Instant now = clock.instant();
            cache.values().removeIf(c -> !c.until().isAfter(now));
        }
        cache.put(key, new Cached<>(value, clock.instant().plus(config.cacheFor())));
    }

    private JsonNode post(String path, ObjectNode body) {
        try {
            String own = Files.readString(config.tokenFile(), StandardCharsets.UTF_8).strip();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(config.apiServer() + path)).timeout(config.timeout())
                    .header("Authorization", "Bearer " + own).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() / 100 != 2) {
                throw new ReviewFailed("the Kubernetes API answered " + r.statusCode() + " to " + path + ": " + r.body());
            }
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new ReviewFailed("the Kubernetes API at " + config.apiServer() + " cannot be reached: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ReviewFailed("interrupted while asking the Kubernetes API", e);
        }
    }

    private static List<String> strings(JsonNode array) {
        java.util.ArrayList<String> out = new java.util.ArrayList<>();
        array.forEach(n -> out.add(n.asString()));
        return List.copyOf(out);
    }

    private static SSLContext trusting(AuthProperties.Kubernetes config) {
        try {
            if (config.caFile() == null || !Files.exists(config.caFile())) {
                return SSLContext.getDefault();
            }
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(config.caFile())))) {
                trust.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            return ssl;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("javastor.gateway.auth.kubernetes.ca-file " + config.caFile() + ": " + e.getMessage(), e);
        }
    }

    /** The API server could not answer: the call is refused (503 would invite retries; 401 says what to fix). */
    public static final class ReviewFailed extends RuntimeException {
        ReviewFailed(String message) {
            super(message);
        }

        ReviewFailed(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
