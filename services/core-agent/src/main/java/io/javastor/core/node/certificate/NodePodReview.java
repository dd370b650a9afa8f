package io.javastor.core.node.certificate;

import java.util.List;
import java.util.Optional;

import io.javastor.api.kubernetes.KubernetesApi;
import io.javastor.core.operation.CoreException;
import tools.jackson.databind.JsonNode;

/**
 * Which node a token's pod runs on, as Kubernetes says: the token must be the io-engines' ServiceAccount's, for our
 * audience, and bound to a pod (a projected token; Kubernetes puts the pod's name and uid in it and revokes it with the
 * pod). The node is the token's own {@code node-name} claim (Kubernetes 1.30+) or else the pod's {@code spec.nodeName},
 * read with the agent's own token. A kubelet can only obtain tokens for pods on its node, so a node that was broken
 * into cannot get one that names another.
 */
public final class NodePodReview {
    static final String POD_NAME = "authentication.kubernetes.io/pod-name";
    static final String POD_UID = "authentication.kubernetes.io/pod-uid";
    static final String NODE_NAME = "authentication.kubernetes.io/node-name";

    /** The pod that asked, and its node. */
    public record PodOnNode(String pod, String node) {
    }

    private final KubernetesApi api;
    private final NodeCertificateProperties config;

    public NodePodReview(KubernetesApi api, NodeCertificateProperties config) {
        this.api = api;
        this.config = config;
    }

    /** The token's pod and node; PERMISSION_DENIED says why a token is refused, UNAVAILABLE when Kubernetes is not answering. */
    public PodOnNode review(String token) {
        if (token == null || token.isBlank()) {
            throw new CoreException.InvalidArgument("service_account_token", "is required (the pod's projected ServiceAccount token)");
        }
        KubernetesApi.User user = kubernetes(() -> api.reviewToken(token, List.of(config.audience())))
                .orElseThrow(() -> new CoreException.PermissionDenied("service_account_token: Kubernetes does not "
                        + "authenticate it for audience " + config.audience() + " (expired, revoked, or meant for another audience)"));
        if (!user.name().equals(config.serviceAccountUser())) {
            throw new CoreException.PermissionDenied("service_account_token: it belongs to " + user.name()
                    + "; only " + config.serviceAccountUser() + " (the io-engines) may ask for a node certificate");
        }
        String pod = user.extra(POD_NAME).orElseThrow(() -> new CoreException.PermissionDenied(
                "service_account_token: not bound to a pod (use a projected ServiceAccount token)"));
        String podUid = user.extra(POD_UID).orElse("");
        Optional<String> claimed = user.extra(NODE_NAME);
        if (claimed.isPresent()) {
            return new PodOnNode(pod, claimed.get());
        }
        JsonNode object = kubernetes(() -> api.pod(config.serviceAccountNamespace(), pod)).orElseThrow(() ->
                new CoreException.PermissionDenied("service_account_token: its pod " + pod + " no longer exists"));
        if (!podUid.isEmpty() && !podUid.equals(object.path("metadata").path("uid").asString(""))) {
            throw new CoreException.PermissionDenied("service_account_token: its pod " + pod + " was replaced by another of that name");
        }
        String node = object.path("spec").path("nodeName").asString("");
        if (node.isEmpty()) {
            throw new CoreException.PermissionDenied("service_account_token: its pod " + pod + " is not scheduled on a node");
        }
        return new PodOnNode(pod, node);
    }

    private static <T> T kubernetes(java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (KubernetesApi.Unavailable e) {
            throw new CoreException.Unavailable("cannot check the token with Kubernetes: " + e.getMessage(), e);
        }
    }
}
