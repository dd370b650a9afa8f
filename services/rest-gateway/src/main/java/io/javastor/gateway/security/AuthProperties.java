package io.javastor.gateway.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Bearer-token authentication and role-based authorization of /v0: on unless turned off explicitly.
 *
 * @param enabled       require "Authorization: Bearer TOKEN" on every /v0 call except the OpenAPI document
 * @param jwtSecretFile a file holding the HMAC-SHA256 key local tokens are signed with (at least 32 bytes of text);
 *                      a file, so the key is never on a command line or in the environment of a process listing
 * @param jwtSecret     the key itself, for tests; one of the two is set when auth is on, unless Kubernetes tokens are
 * @param kubernetes    also accept Kubernetes tokens, authorized by Kubernetes RBAC
 */
@ConfigurationProperties("javastor.gateway.auth")
public record AuthProperties(@DefaultValue("true") boolean enabled, Path jwtSecretFile, String jwtSecret,
        @DefaultValue Kubernetes kubernetes) {

    /**
     * Kubernetes tokens (TokenReview) and RBAC (SubjectAccessReview), for the chart: see {@link KubernetesReviews}.
     *
     * @param apiServer the API server; in a pod, the kubernetes Service
     * @param caFile    the CA that signed the API server's certificate
     * @param tokenFile the gateway's own ServiceAccount token (it needs create on tokenreviews and subjectaccessreviews)
     * @param audiences audiences a reviewed token must be for (empty: the API server's own)
     * @param cacheFor  how long an answer is reused
     * @param timeout   deadline of one review
     */
    public record Kubernetes(@DefaultValue("false") boolean enabled, @DefaultValue("https://kubernetes.default.svc") String apiServer,
            @DefaultValue("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt") Path caFile,
            @DefaultValue("/var/run/secrets/kubernetes.io/serviceaccount/token") Path tokenFile,
            @DefaultValue("") java.util.List<String> audiences, @DefaultValue("30s") java.time.Duration cacheFor,
            @DefaultValue("5s") java.time.Duration timeout) {
    }

    public AuthProperties {
        boolean file = jwtSecretFile != null && !jwtSecretFile.toString().isBlank();
        boolean inline = jwtSecret != null && !jwtSecret.isBlank();
        if (enabled && file && inline) {
            throw new IllegalArgumentException("javastor.gateway.auth: set jwt-secret-file or jwt-secret, not both");
        }
        if (enabled && !file && !inline && !kubernetes.enabled()) {
            throw new IllegalArgumentException("javastor.gateway.auth: set javastor.gateway.auth.jwt-secret-file (the "
                    + "signing key's file; `./javastor up` and the chart create one) or turn authentication off with "
                    + "javastor.gateway.auth.enabled=false (or use Kubernetes tokens: javastor.gateway.auth.kubernetes.enabled=true)");
        }
        if (!file) {
            jwtSecretFile = null;
        }
    }

    /** Whether local tokens (signed with our key) are accepted. */
    public boolean localTokens() {
        return jwtSecretFile != null || (jwtSecret != null && !jwtSecret.isBlank());
    }

    /** The signing key, read and checked now (so a bad key stops the gateway at start, naming the file). */
    public byte[] signingKey() {
        return jwtSecretFile != null ? SigningKey.read(jwtSecretFile) : SigningKey.check(jwtSecret, "javastor.gateway.auth.jwt-secret");
    }

    /** The key's rules, shared by the gateway and {@link TokenIssuer}. */
    static final class SigningKey {
        static final int MIN_BYTES = 32;

        private SigningKey() {
        }

        static byte[] read(Path file) {
            try {
                return check(Files.readString(file, StandardCharsets.UTF_8), "signing key file " + file);
            } catch (IOException e) {
                throw new IllegalArgumentException("signing key file " + file + " cannot be read: " + e, e);
            }
        }

        static byte[] check(String text, String where) {
            byte[] key = text.strip().getBytes(StandardCharsets.UTF_8);
            if (key.length < MIN_BYTES) {
                throw new IllegalArgumentException(where + ": at least " + MIN_BYTES + " bytes are needed, it has " + key.length);
            }
            return key;
        }
    }
}
