package io.javastor.gateway.security;

import java.util.List;

import org.springframework.security.authentication.AbstractAuthenticationToken;

import io.javastor.api.kubernetes.KubernetesApi;

/** A caller Kubernetes vouched for (TokenReview); what it may do is asked of RBAC per role ({@link KubernetesReviews#allowed}). */
public final class KubernetesCaller extends AbstractAuthenticationToken {
    private final KubernetesApi.User user;

    public KubernetesCaller(KubernetesApi.User user) {
        super(List.of());
        this.user = user;
        setAuthenticated(true);
    }

    public KubernetesApi.User user() {
        return user;
    }

    @Override
    public Object getCredentials() {
        return "";
    }

    @Override
    public Object getPrincipal() {
        return user.name();
    }
}
