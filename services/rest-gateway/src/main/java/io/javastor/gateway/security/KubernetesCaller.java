package io.javastor.gateway.security;

import java.util.List;

import org.springframework.security.authentication.AbstractAuthenticationToken;

/** A caller Kubernetes vouched for (TokenReview); what it may do is asked of RBAC per role ({@link KubernetesReviews#allowed}). */
public final class KubernetesCaller extends AbstractAuthenticationToken {
    private final KubernetesReviews.User user;

    public KubernetesCaller(KubernetesReviews.User user) {
        super(List.of());
        this.user = user;
        setAuthenticated(true);
    }

    public KubernetesReviews.User user() {
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
