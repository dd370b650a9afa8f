package io.javastor.kubectl;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.LocalPortForward;

/**
 * The REST gateway of a Javastor installed by the chart, reached as {@code kubectl port-forward svc/...} would: the
 * kubeconfig's API server, the gateway Service (found by the chart's labels in the namespace), one of its ready pods,
 * and a port-forward from a loopback port here to the pod's port. What the plugin needs besides is read from the
 * cluster when the command line does not give it: the cluster CA (the chart's {@code <release>-cluster-ca} ConfigMap;
 * none means the chart runs without TLS) and a token — a short-lived admin token signed with the gateway's own key
 * (the Secret its pods mount, readable only to whom the namespace's Secrets are), else the kubeconfig's own bearer
 * token (the gateway asks Kubernetes about it: TokenReview and RBAC).
 */
final class KubernetesGateway implements AutoCloseable {
    /** The namespace the chart's install instructions use ({@code helm install javastor ./helm/javastor -n javastor}). */
    static final String DEFAULT_NAMESPACE = "javastor";
    static final Map<String, String> GATEWAY_LABELS = Map.of("app.kubernetes.io/part-of", "javastor", "app.kubernetes.io/component", "rest-gateway");
    /** Long enough for a drain's wait; the token is never written anywhere. */
    static final Duration MINTED_TOKEN_VALIDITY = Duration.ofHours(1);

    /** Something needed is missing or refused; the message names it and what to do, the exit code says which. */
    static final class Problem extends RuntimeException {
        private final int exit;

        Problem(int exit, String message, Throwable cause) {
            super(message, cause);
            this.exit = exit;
        }

        int exit() {
            return exit;
        }
    }

    /** Where to look: all optional. */
    record Target(Path kubeconfig, String context, String namespace, String release) {
        String ns() {
            return namespace != null ? namespace : DEFAULT_NAMESPACE;
        }
    }

    private final KubernetesClient client;
    private final LocalPortForward forward;
    private final String url;
    private final byte[] caPem;
    private final String token;
    private final String pod;
    private final String namespace;

    private KubernetesGateway(KubernetesClient client, LocalPortForward forward, String url, byte[] caPem, String token, String pod,
            String namespace) {
        this.client = client;
        this.forward = forward;
        this.url = url;
        this.caPem = caPem;
        this.token = token;
        this.pod = pod;
        this.namespace = namespace;
    }

    /** Whether a kubeconfig is where kubectl looks for one ({@code $KUBECONFIG}, else {@code ~/.kube/config}). */
    static boolean kubeconfigPresent() {
        return Config.getKubeconfigFilenames().stream().anyMatch(f -> Files.isRegularFile(Path.of(f)));
    }

    /**
     * Finds the gateway and opens the port-forward. {@code haveCa} / {@code haveToken}: the command line gave them, so
     * they are not read from the cluster.
     */
    static KubernetesGateway open(Target target, boolean haveCa, boolean haveToken) {
        Config config = config(target);
        String ns = target.ns();
        KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
        try {
            Service service = service(client, ns, target.release());
            Pod pod = readyPod(client, ns, service);
            int port = targetPort(service, pod);
            Optional<byte[]> ca = haveCa ? Optional.empty() : clusterCa(client, ns, service);
            boolean tls = haveCa || ca.isPresent();
            String token = haveToken ? null : token(client, config, ns, pod);
            String name = pod.getMetadata().getName();
            LocalPortForward forward = call(() -> client.pods().inNamespace(ns).withName(name).portForward(port),
                    "port-forward to pod " + name + " in namespace " + ns, "create", "pods/portforward", ns, config);
            return new KubernetesGateway(client, forward, (tls ? "https" : "http") + "://127.0.0.1:" + forward.getLocalPort(),
                    ca.orElse(null), token, name, ns);
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    String url() {
        return url;
    }

    /** The cluster CA read from the cluster (PEM), or null when the command line gave one or the chart has no TLS. */
    byte[] caPem() {
        return caPem;
    }

    /** The token found in the cluster, or null when the command line gave one. */
    String token() {
        return token;
    }

    String namespace() {
        return namespace;
    }

    /** For error messages: where the calls really go. */
    String describe() {
        return url + " (port-forward to pod " + pod + " in namespace " + namespace + ")";
    }

    /** What the port-forward saw go wrong (the API server's refusal of the WebSocket, a reset stream), if anything. */
    String trouble() {
        if (!forward.errorOccurred()) {
            return "";
        }
        String seen = java.util.stream.Stream.concat(forward.getClientThrowables().stream(), forward.getServerThrowables().stream())
                .map(KubernetesGateway::describe).distinct().collect(Collectors.joining("; "));
        return "; the port-forward failed: " + seen + " (may the kubeconfig's user create pods/portforward in namespace " + namespace + "?)";
    }

    @Override
    public void close() {
        try {
            forward.close();
        } catch (java.io.IOException e) {
            // the local listener is going away with the process anyway
        }
        client.close();
    }

    private static Config config(Target target) {
        Config config;
        try {
            if (target.kubeconfig() != null) {
                File file = target.kubeconfig().toFile();
                if (!file.isFile()) {
                    throw new Problem(2, "--kubeconfig " + target.kubeconfig() + ": no such file", null);
                }
                config = Config.fromKubeconfig(target.context(), file);
            } else {
                if (!kubeconfigPresent()) {
                    throw new Problem(2, "no kubeconfig: " + (System.getenv("KUBECONFIG") != null ? "$KUBECONFIG names no file ("
                            + System.getenv("KUBECONFIG") + ")" : "$KUBECONFIG is not set and ~/.kube/config does not exist")
                            + " (give --kubeconfig FILE, or --rest-url to a gateway you reach yourself)", null);
                }
                config = Config.autoConfigure(target.context());
            }
        } catch (KubernetesClientException | IllegalArgumentException e) {
            throw new Problem(2, "the kubeconfig cannot be used: " + e.getMessage(), e);
        }
        if (target.context() != null && (config.getCurrentContext() == null || !target.context().equals(config.getCurrentContext().getName()))) {
            throw new Problem(2, "--context " + target.context() + ": the kubeconfig has no such context", null);
        }
        // One try, with a short deadline: an API server that does not answer is reported at once, not after retries.
        return new ConfigBuilder(config).withRequestRetryBackoffLimit(0).withConnectionTimeout(10_000).withRequestTimeout(30_000).build();
    }

    private static Service service(KubernetesClient client, String ns, String release) {
        Map<String, String> labels = new LinkedHashMap<>(GATEWAY_LABELS);
        if (release != null) {
            labels.put("app.kubernetes.io/instance", release);
        }
        List<Service> found = call(() -> client.services().inNamespace(ns).withLabels(labels).list().getItems(),
                "listing Services in namespace " + ns, "list", "services", ns, client.getConfiguration());
        if (found.isEmpty()) {
            throw new Problem(KubectlJavastor.UNREACHABLE, "no REST gateway Service in namespace " + ns + " (a Service labelled "
                    + selector(labels) + "): is Javastor installed there? (-n NAMESPACE" + (release != null ? ", --release" : "") + ")", null);
        }
        if (found.size() > 1) {
            throw new Problem(2, found.size() + " REST gateway Services in namespace " + ns + " ("
                    + found.stream().map(s -> s.getMetadata().getName() + " of release "
                            + s.getMetadata().getLabels().getOrDefault("app.kubernetes.io/instance", "?")).collect(Collectors.joining(", "))
                    + "): choose one with --release", null);
        }
        return found.get(0);
    }

    private static Pod readyPod(KubernetesClient client, String ns, Service service) {
        String name = service.getMetadata().getName();
        Map<String, String> selector = service.getSpec().getSelector();
        if (selector == null || selector.isEmpty()) {
            throw new Problem(KubectlJavastor.UNREACHABLE, "Service " + name + " in namespace " + ns + " selects no pods (it has no selector)", null);
        }
        List<Pod> pods = call(() -> client.pods().inNamespace(ns).withLabels(selector).list().getItems(),
                "listing the pods of Service " + name + " in namespace " + ns, "list", "pods", ns, client.getConfiguration());
        return pods.stream().filter(KubernetesGateway::ready).findFirst().orElseThrow(() -> new Problem(KubectlJavastor.UNREACHABLE,
                "no ready pod behind Service " + name + " in namespace " + ns + (pods.isEmpty() ? " (it selects none)" : " ("
                        + pods.stream().map(p -> p.getMetadata().getName() + ": " + (p.getStatus() == null ? "no status" : p.getStatus().getPhase()
                                + (p.getMetadata().getDeletionTimestamp() != null ? ", terminating" : ", not ready")))
                                .collect(Collectors.joining("; ")) + ")")
                        + "; kubectl -n " + ns + " get pods -l " + selector(selector), null));
    }

    private static boolean ready(Pod p) {
        return p.getMetadata().getDeletionTimestamp() == null && p.getStatus() != null && "Running".equals(p.getStatus().getPhase())
                && p.getStatus().getConditions() != null
                && p.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    /** The pod's port the Service sends its (first, or "http") port to: a number, or a container port's name. */
    private static int targetPort(Service service, Pod pod) {
        List<ServicePort> ports = service.getSpec().getPorts();
        if (ports == null || ports.isEmpty()) {
            throw new Problem(KubectlJavastor.UNREACHABLE, "Service " + service.getMetadata().getName() + " has no port", null);
        }
        ServicePort port = ports.stream().filter(p -> "http".equals(p.getName())).findFirst().orElse(ports.get(0));
        if (port.getTargetPort() == null) {
            return port.getPort();
        }
        if (port.getTargetPort().getIntVal() != null) {
            return port.getTargetPort().getIntVal();
        }
        String named = port.getTargetPort().getStrVal();
        return pod.getSpec().getContainers().stream().flatMap(c -> c.getPorts() == null ? java.util.stream.Stream.empty() : c.getPorts().stream())
                .filter(cp -> named.equals(cp.getName())).map(cp -> cp.getContainerPort()).findFirst()
                .orElseThrow(() -> new Problem(KubectlJavastor.UNREACHABLE, "pod " + pod.getMetadata().getName() + " has no port named '"
                        + named + "' (Service " + service.getMetadata().getName() + "'s target port)", null));
    }

    /** The chart's CA ConfigMap of the same release (the CA's certificate only); empty when the chart runs without TLS. */
    private static Optional<byte[]> clusterCa(KubernetesClient client, String ns, Service service) {
        Map<String, String> labels = new LinkedHashMap<>(Map.of("app.kubernetes.io/part-of", "javastor", "app.kubernetes.io/component", "tls-ca"));
        String release = service.getMetadata().getLabels().get("app.kubernetes.io/instance");
        if (release != null) {
            labels.put("app.kubernetes.io/instance", release);
        }
        List<ConfigMap> found = call(() -> client.configMaps().inNamespace(ns).withLabels(labels).list().getItems(),
                "reading the cluster CA (ConfigMaps labelled " + selector(labels) + ") in namespace " + ns + "; or give --ca-file",
                "list", "configmaps", ns, client.getConfiguration());
        return found.stream().map(c -> c.getData() == null ? null : c.getData().get("ca.crt")).filter(pem -> pem != null && !pem.isBlank())
                .findFirst().map(pem -> pem.getBytes(StandardCharsets.US_ASCII));
    }

    /** A token signed with the key the gateway pod mounts (volume "auth"), else the kubeconfig's bearer token. */
    private static String token(KubernetesClient client, Config config, String ns, Pod pod) {
        Optional<String> secretName = pod.getSpec().getVolumes() == null ? Optional.empty() : pod.getSpec().getVolumes().stream()
                .filter(v -> "auth".equals(v.getName()) && v.getSecret() != null).map(Volume::getSecret).map(s -> s.getSecretName()).findFirst();
        String why;
        if (secretName.isPresent()) {
            Secret secret;
            try {
                secret = client.secrets().inNamespace(ns).withName(secretName.get()).get();
            } catch (KubernetesClientException e) {
                if (e.getCode() != 403) {
                    throw failure(e, "reading Secret " + secretName.get() + " in namespace " + ns, "get", "secrets", ns, config);
                }
                secret = null;
            }
            String key = secret == null || secret.getData() == null ? null : secret.getData().get("jwt.key");
            if (key != null) {
                return mint(Base64.getMimeDecoder().decode(key), config);
            }
            why = secret == null ? "Secret " + secretName.get() + " (the gateway's signing key) cannot be read" : "Secret " + secretName.get() + " has no jwt.key";
        } else {
            why = "the gateway takes no tokens of its own";
        }
        String own = config.getOauthToken() != null ? config.getOauthToken() : config.getAutoOAuthToken();
        if (own != null && !own.isBlank()) {
            return own;
        }
        throw new Problem(2, "no token for the REST gateway: " + why + " and the kubeconfig's user has no bearer token"
                + " (give --token-file with a token from ./javastor token ROLE, or --token)", null);
    }

    /** What javastor-token makes (HS256; subject, role, issued, expiry, id), short-lived and admin: reading the key allows as much. */
    private static String mint(byte[] keyText, Config config) {
        byte[] key = new String(keyText, StandardCharsets.UTF_8).strip().getBytes(StandardCharsets.UTF_8);
        Instant now = Instant.now();
        String user = config.getCurrentContext() != null && config.getCurrentContext().getContext() != null
                ? config.getCurrentContext().getContext().getUser() : null;
        JWTClaimsSet claims = new JWTClaimsSet.Builder().subject("kubectl-javastor" + (user != null ? ":" + user : "")).claim("role", "admin")
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plus(MINTED_TOKEN_VALIDITY))).jwtID(UUID.randomUUID().toString()).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        try {
            jwt.sign(new MACSigner(key));
        } catch (JOSEException e) {
            throw new Problem(2, "the gateway's signing key cannot sign a token: " + e.getMessage(), e);
        }
        return jwt.serialize();
    }

    private static <T> T call(java.util.function.Supplier<T> request, String what, String verb, String resource, String ns, Config config) {
        try {
            return request.get();
        } catch (KubernetesClientException e) {
            throw failure(e, what, verb, resource, ns, config);
        }
    }

    private static Problem failure(KubernetesClientException e, String what, String verb, String resource, String ns, Config config) {
        String user = config.getCurrentContext() != null && config.getCurrentContext().getContext() != null
                ? " (user " + config.getCurrentContext().getContext().getUser() + ")" : "";
        return switch (e.getCode()) {
            case 401 -> new Problem(KubectlJavastor.REFUSED, what + ": the Kubernetes API at " + config.getMasterUrl()
                    + " does not accept the kubeconfig's credentials" + user, e);
            case 403 -> new Problem(KubectlJavastor.REFUSED, what + ": forbidden: the kubeconfig's user" + user + " may not " + verb + " "
                    + resource + " in namespace " + ns + " (kubectl auth can-i " + verb + " " + resource + " -n " + ns + ")", e);
            case 404 -> new Problem(KubectlJavastor.UNREACHABLE, what + ": not found (" + message(e) + ")", e);
            default -> e.getCode() > 0
                    ? new Problem(KubectlJavastor.UNREACHABLE, what + ": the Kubernetes API answered " + e.getCode() + ": " + message(e), e)
                    : new Problem(KubectlJavastor.UNREACHABLE, what + ": cannot reach the Kubernetes API at " + config.getMasterUrl() + " ("
                            + rootCause(e) + ")", e);
        };
    }

    /** A refused WebSocket says only its class: give the API server's answer instead. */
    private static String describe(Throwable t) {
        if (t instanceof io.fabric8.kubernetes.client.http.WebSocketHandshakeException refused && refused.getResponse() != null) {
            return "the Kubernetes API answered " + refused.getResponse().code() + " to the port-forward's WebSocket";
        }
        return t.getMessage() != null ? t.getMessage() : t.toString();
    }

    private static String rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getClass().getSimpleName() + ": " + root.getMessage() : root.getClass().getSimpleName();
    }

    private static String message(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage() != null ? root.getMessage() : root.toString();
        return root == e ? m : e.getMessage() + " (" + m + ")";
    }

    private static String selector(Map<String, String> labels) {
        return labels.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(","));
    }
}
