package io.javastor.gateway.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.javastor.gateway.RestGatewayApplication;
import io.javastor.gateway.security.ApiRole;
import io.javastor.gateway.security.TokenIssuer;
import io.javastor.gateway.volume.VolumeLimits;

/**
 * In Kubernetes (cloud platform forced, fabric8's mock API server in CRUD mode) the gateway takes a setting from its
 * settings ConfigMap and its token signing key from its Secret, through Spring Cloud Kubernetes, as the chart sets it
 * up (templates/_helpers.tpl, javastor.kubernetesSources); outside Kubernetes the same configuration makes no API
 * server call. No core agent: the calls only need to pass authentication.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesSettingsTest {
    private static final String NS = "storage";
    private static final String KEY = "signing-key-from-the-kubernetes-secret-0123456789";

    static KubernetesMockServer server;
    static KubernetesClient client;

    @Test
    void aSettingComesFromTheConfigMapAndTheSigningKeyFromTheSecret() throws Exception {
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build()).create();
        client.configMaps().inNamespace(NS).resource(new ConfigMapBuilder().withNewMetadata().withName("rest-gateway-settings").endMetadata()
                .addToData("application.yaml", "javastor:\n  gateway:\n    volumes:\n      max-replicas: 5\n").build()).create();
        client.secrets().inNamespace(NS).resource(new SecretBuilder().withNewMetadata().withName("rest-gateway-secrets").endMetadata()
                .addToData("javastor.gateway.auth.jwt-secret", Base64.getEncoder().encodeToString(KEY.getBytes(StandardCharsets.UTF_8)))
                .build()).create();

        try (ConfigurableApplicationContext gateway = start(Map.of("spring.main.cloud-platform", "kubernetes"))) {
            // application.properties says 16; the ConfigMap says 5.
            assertThat(gateway.getBean(VolumeLimits.class).maxReplicas()).isEqualTo(5);

            String base = "http://127.0.0.1:" + gateway.getEnvironment().getProperty("local.server.port");
            String signedWithSecret = TokenIssuer.issue(KEY.getBytes(StandardCharsets.UTF_8), "test", ApiRole.VIEWER, Duration.ofMinutes(5));
            String signedWithOther = TokenIssuer.issue("some-other-key-that-the-gateway-does-not-have-000".getBytes(StandardCharsets.UTF_8),
                    "test", ApiRole.VIEWER, Duration.ofMinutes(5));
            assertThat(get(base + "/v0/volumes", signedWithOther)).as("a token signed with another key").isEqualTo(401);
            // Authenticated with the Secret's key: past the filter (the missing core agent answers, not the auth).
            assertThat(get(base + "/v0/volumes", signedWithSecret)).as("a token signed with the Secret's key").isNotIn(401, 403);
        }
    }

    @Test
    void outsideKubernetesTheSameConfigurationMakesNoApiServerCall() {
        int before = server.getRequestCount();
        // No cloud platform: the Kubernetes document is not active; the signing key comes the usual way.
        try (ConfigurableApplicationContext gateway = start(Map.of("javastor.gateway.auth.jwt-secret", KEY))) {
            assertThat(gateway.getBean(VolumeLimits.class).maxReplicas()).isEqualTo(16);
            assertThat(gateway.getEnvironment().getProperty("spring.cloud.kubernetes.config.sources[0].name")).isNull();
            assertThat(gateway.containsBean("configKubernetesClient")).isFalse();
        }
        assertThat(server.getRequestCount()).as("requests to the API server").isEqualTo(before);
    }

    /** The gateway with the chart's Kubernetes document (kubernetes-sources.yaml), its client pointed at the mock server. */
    private static ConfigurableApplicationContext start(Map<String, String> overrides) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("spring.config.additional-location", "classpath:/kubernetes-sources.yaml");
        props.put("spring.cloud.kubernetes.client.master-url", client.getConfiguration().getMasterUrl());
        props.put("spring.cloud.kubernetes.client.trust-certs", "true");
        props.put("server.port", "0");
        props.put("javastor.tls.enabled", "false");
        props.put("javastor.gateway.core-agent.addresses", "127.0.0.1:1");
        props.put("javastor.gateway.core-agent.call-timeout", "2s");
        props.put("logging.level.io.fabric8.mockwebserver", "WARN");
        props.putAll(overrides);
        String[] args = props.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
        return new SpringApplicationBuilder(RestGatewayApplication.class).run(args);
    }

    private static int get(String url, String token) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(20)).GET()
                .build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
