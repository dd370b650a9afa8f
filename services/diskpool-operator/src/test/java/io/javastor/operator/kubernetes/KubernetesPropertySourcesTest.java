package io.javastor.operator.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.cloud.kubernetes.commons.config.reload.ConfigurationChangeDetector;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.javastor.operator.OperatorProperties;

/**
 * In Kubernetes (cloud platform forced, fabric8's mock API server in CRUD mode) the operator takes settings from its
 * ConfigMap and secret values from its Secret through Spring Cloud Kubernetes, and sees a ConfigMap change live.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesPropertySourcesTest {
    static KubernetesMockServer server;
    static KubernetesClient client;

    private OperatorApp operator;

    @BeforeEach
    void sources() {
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(OperatorApp.NAMESPACE).endMetadata().build())
                .createOr(r -> r.update());
        client.configMaps().inNamespace(OperatorApp.NAMESPACE).resource(new ConfigMapBuilder()
                .withNewMetadata().withName("operator-live").endMetadata()
                .addToData("application.yaml", "javastor:\n  operator:\n    refresh: 7s\nlogging:\n  level:\n    io.javastor.operator.diskpool: INFO\n")
                .build()).createOr(r -> r.update());
        client.secrets().inNamespace(OperatorApp.NAMESPACE).resource(new SecretBuilder()
                .withNewMetadata().withName("operator-secrets").endMetadata()
                .addToData("javastor.test.secret-token", Base64.getEncoder().encodeToString("s3cr3t-from-the-secret".getBytes(StandardCharsets.UTF_8)))
                .build()).createOr(r -> r.update());
    }

    @AfterEach
    void stop() {
        if (operator != null) {
            operator.close();
        }
    }

    private static OperatorProperties live(OperatorApp app) {
        return app.context.getBean("liveOperatorProperties", java.util.function.Supplier.class) instanceof java.util.function.Supplier<?> s
                ? (OperatorProperties) s.get() : null;
    }

    @Test
    void aSettingComesFromTheConfigMapAndASecretValueFromTheSecret() {
        operator = OperatorApp.inKubernetes(client, "op-a", Map.of());

        // application.properties says 30s; the ConfigMap (a property source of higher precedence) says 7s.
        assertThat(operator.context.getEnvironment().getProperty("javastor.operator.refresh")).isEqualTo("7s");
        assertThat(operator.context.getBean(OperatorProperties.class).refresh()).isEqualTo(Duration.ofSeconds(7));
        assertThat(operator.context.getEnvironment().getProperty("javastor.test.secret-token")).isEqualTo("s3cr3t-from-the-secret");
        // Reload is on: a change detector watches the ConfigMaps.
        assertThat(operator.context.getBeansOfType(ConfigurationChangeDetector.class)).isNotEmpty();
    }

    @Test
    void aConfigMapChangeIsSeenLive() {
        operator = OperatorApp.inKubernetes(client, "op-b", Map.of());
        assertThat(live(operator).refresh()).isEqualTo(Duration.ofSeconds(7));
        var diskpoolLog = org.slf4j.LoggerFactory.getLogger("io.javastor.operator.diskpool");
        assertThat(diskpoolLog.isDebugEnabled()).isFalse();

        client.configMaps().inNamespace(OperatorApp.NAMESPACE).withName("operator-live").edit(cm -> new ConfigMapBuilder(cm)
                .addToData("application.yaml", "javastor:\n  operator:\n    refresh: 3s\nlogging:\n  level:\n    io.javastor.operator.diskpool: DEBUG\n")
                .build());

        await("the new refresh interval, live").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> live(operator).refresh().equals(Duration.ofSeconds(3)));
        assertThat(operator.context.getEnvironment().getProperty("javastor.operator.refresh")).isEqualTo("3s");
        await("the new log level, live").atMost(Duration.ofSeconds(10)).until(diskpoolLog::isDebugEnabled);
    }
}
