package io.javastor.gateway.security;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import io.javastor.api.kubernetes.KubernetesApi;
import io.javastor.api.kubernetes.KubernetesApi.User;
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

    private record Cached<T>(T value, Instant until) {
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final AuthProperties.Kubernetes config;
    private final KubernetesApi api;
    private final Clock clock;
    private final Map<String, Cached<Optional<User>>> users = new ConcurrentHashMap<>();
    private final Map<String, Cached<Boolean>> grants = new ConcurrentHashMap<>();

    public KubernetesReviews(AuthProperties.Kubernetes config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.api = new KubernetesApi(new KubernetesApi.Connection(config.apiServer(), config.caFile(), config.tokenFile(),
                config.timeout()));
    }

    /** The token's user, or empty when the API server says it is not authenticated. */
    public Optional<User> authenticate(String token) {
        Cached<Optional<User>> hit = users.get(token);
        if (hit != null && hit.until().isAfter(clock.instant())) {
            return hit.value();
        }
        Optional<User> user;
        try {
            user = api.reviewToken(token, config.audiences());
        } catch (KubernetesApi.Unavailable e) {
            throw new ReviewFailed(e.getMessage(), e);
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
        boolean allowed;
        try {
            allowed = api.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", review).path("status").path("allowed").asBoolean(false);
        } catch (KubernetesApi.Unavailable e) {
            throw new ReviewFailed(e.getMessage(), e);
        }
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

    /** The API server could not answer: the call is refused (503 would invite retries; 401 says what to fix). */
    public static final class ReviewFailed extends RuntimeException {
        ReviewFailed(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
