package io.javastor.core.node.certificate;

import java.nio.file.Path;
import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import io.javastor.api.kubernetes.KubernetesApi;

/**
 * Node certificates issued by the agent (the chart turns them on; the local cluster and compose issue every node its
 * certificate with {@code tools/cluster-certs} instead). Under {@code javastor.core.node-certificates}.
 *
 * @param enabled        whether io-engines may ask for one; while on, the shared bootstrap certificate
 *                       ({@code *.node.javastor}) may ask and nothing else: it can no longer register as any node
 * @param caKeyFile      the cluster CA's private key (PEM, PKCS#8); the CA certificate is {@code javastor.tls.ca-file}
 * @param validity       how long an issued certificate lasts (an engine asks again when its pod starts)
 * @param serviceAccount the io-engines' ServiceAccount, {@code NAMESPACE:NAME}: only its tokens are accepted
 * @param audience       the audience the engine's projected token must be for (so a token meant for anything else,
 *                       e.g. the API server, is useless here)
 * @param kubernetes     how the agent reaches the Kubernetes API (TokenReview, and the pod, for its node)
 */
@ConfigurationProperties("javastor.core.node-certificates")
public record NodeCertificateProperties(@DefaultValue("false") boolean enabled, Path caKeyFile,
        @DefaultValue("365d") Duration validity, String serviceAccount,
        @DefaultValue("javastor-core-agent") String audience, @DefaultValue Kubernetes kubernetes) {

    public static final String PREFIX = "javastor.core.node-certificates";

    public record Kubernetes(@DefaultValue(KubernetesApi.Connection.IN_CLUSTER_SERVER) String apiServer,
            @DefaultValue("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt") Path caFile,
            @DefaultValue("/var/run/secrets/kubernetes.io/serviceaccount/token") Path tokenFile,
            @DefaultValue("5s") Duration timeout) {

        KubernetesApi.Connection connection() {
            return new KubernetesApi.Connection(apiServer, caFile, tokenFile, timeout);
        }
    }

    public NodeCertificateProperties {
        if (enabled) {
            if (caKeyFile == null || caKeyFile.toString().isBlank()) {
                throw new IllegalArgumentException(PREFIX + ".ca-key-file is required when " + PREFIX
                        + ".enabled=true: the cluster CA's key signs the node certificates");
            }
            if (serviceAccount == null || !serviceAccount.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-.a-z0-9]*[a-z0-9])?")) {
                throw new IllegalArgumentException(PREFIX + ".service-account must be NAMESPACE:NAME (the io-engines' "
                        + "ServiceAccount), got '" + serviceAccount + "'");
            }
            if (validity.isNegative() || validity.isZero()) {
                throw new IllegalArgumentException(PREFIX + ".validity must be positive, got " + validity);
            }
        }
    }

    /** The user name Kubernetes gives the io-engines' tokens. */
    String serviceAccountUser() {
        return "system:serviceaccount:" + serviceAccount;
    }

    String serviceAccountNamespace() {
        return serviceAccount.substring(0, serviceAccount.indexOf(':'));
    }
}
