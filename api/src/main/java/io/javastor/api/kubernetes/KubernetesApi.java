package io.javastor.api.kubernetes;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import javax.net.ssl.SSLContext;

import io.javastor.api.tls.ClusterTls;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The few calls Javastor makes to the Kubernetes API server, as a pod with its own ServiceAccount token: who a token
 * belongs to (TokenReview, authentication.k8s.io/v1), and reads of single objects (a pod). The REST gateway
 * authenticates callers with it, the core agent the io-engines that ask for a node certificate. A plain HTTPS client:
 * a Kubernetes client library would bring its own HTTP stack and object model for two calls.
 */
public final class KubernetesApi {

    /**
     * Where the API server is and how we prove ourselves to it (in a pod: the kubernetes Service and the mounted
     * ServiceAccount token and CA).
     */
    public record Connection(String apiServer, Path caFile, Path tokenFile, Duration timeout) {
        public static final String IN_CLUSTER_SERVER = "https://kubernetes.default.svc";
        public static final Path IN_CLUSTER_CA = Path.of("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
        public static final Path IN_CLUSTER_TOKEN = Path.of("/var/run/secrets/kubernetes.io/serviceaccount/token");
    }

    /** Who a token belongs to, as the API server said (status.user of a TokenReview). */
    public record User(String name, String uid, List<String> groups, Map<String, List<String>> extra) {
        /** The first value of an extra field, e.g. {@code authentication.kubernetes.io/pod-name} of a pod-bound token. */
        public Optional<String> extra(String key) {
            return Optional.ofNullable(extra.get(key)).filter(v -> !v.isEmpty()).map(v -> v.get(0));
        }
    }

    /** The API server could not be asked or did not answer as expected; the request that needed it is refused. */
    public static final class Unavailable extends RuntimeException {
        Unavailable(String message) {
            super(message);
        }

        Unavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final Connection connection;
    private final HttpClient http;

    public KubernetesApi(Connection connection) {
        this.connection = connection;
        SSLContext ssl = connection.caFile() != null && Files.exists(connection.caFile())
                ? ClusterTls.trustingCa(connection.caFile()) : defaultContext();
        this.http = HttpClient.newBuilder().connectTimeout(connection.timeout()).sslContext(ssl).build();
    }

    public Connection connection() {
        return connection;
    }

    /** The token's user, or empty when the API server says it is not authenticated (for these audiences). */
    public Optional<User> reviewToken(String token, List<String> audiences) {
        ObjectNode review = JSON.createObjectNode().put("apiVersion", "authentication.k8s.io/v1").put("kind", "TokenReview");
        ObjectNode spec = review.putObject("spec").put("token", token);
        audiences.forEach(spec.putArray("audiences")::add);
        JsonNode status = post("/apis/authentication.k8s.io/v1/tokenreviews", review).path("status");
        if (!status.path("authenticated").asBoolean(false)) {
            return Optional.empty();
        }
        JsonNode u = status.path("user");
        Map<String, List<String>> extra = new TreeMap<>();
        u.path("extra").properties().forEach(e -> extra.put(e.getKey(), strings(e.getValue())));
        return Optional.of(new User(u.path("username").asString(), u.path("uid").asString(), strings(u.path("groups")), extra));
    }

    /** A pod, or empty when it does not exist. */
    public Optional<JsonNode> pod(String namespace, String name) {
        return get("/api/v1/namespaces/" + segment(namespace) + "/pods/" + segment(name));
    }

    /** POST of a review object; its answer. */
    public JsonNode post(String path, ObjectNode body) {
        HttpResponse<String> r = send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build());
        if (r.statusCode() / 100 != 2) {
            throw new Unavailable("the Kubernetes API answered " + r.statusCode() + " to " + path + ": " + r.body());
        }
        return JSON.readTree(r.body());
    }

    private Optional<JsonNode> get(String path) {
        HttpResponse<String> r = send(request(path).GET().build());
        if (r.statusCode() == 404) {
            return Optional.empty();
        }
        if (r.statusCode() / 100 != 2) {
            throw new Unavailable("the Kubernetes API answered " + r.statusCode() + " to GET " + path + ": " + r.body());
        }
        return Optional.of(JSON.readTree(r.body()));
    }

    private HttpRequest.Builder request(String path) {
        String own;
        try {
            own = Files.readString(connection.tokenFile(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new Unavailable("our ServiceAccount token " + connection.tokenFile() + " cannot be read: " + e.getMessage(), e);
        }
        return HttpRequest.newBuilder(URI.create(connection.apiServer() + path)).timeout(connection.timeout())
                .header("Authorization", "Bearer " + own);
    }

    private HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new Unavailable("the Kubernetes API at " + connection.apiServer() + " cannot be reached: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unavailable("interrupted while asking the Kubernetes API", e);
        }
    }

    /** A name as one path segment (Kubernetes names are DNS labels; this keeps a hostile one from changing the path). */
    private static String segment(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8);
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asString()));
        return List.copyOf(out);
    }

    private static SSLContext defaultContext() {
        try {
            return SSLContext.getDefault();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
