package io.javastor.operator.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.springframework.cloud.kubernetes.commons.config.reload.ConfigurationChangeDetector;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;

/**
 * Outside Kubernetes (no cloud platform) the same configuration reads nothing from the API server: the Kubernetes
 * document is not active, no ConfigMap or Secret is asked for, nothing watches them, and the settings are the
 * application's own.
 */
@EnableKubernetesMockClient(crud = true)
class OutsideKubernetesTest {
    static KubernetesMockServer server;
    static KubernetesClient client;

    @Test
    void noConfigMapOrSecretIsReadAndNothingIsWatched() throws Exception {
        // Election off and an empty namespace: the DiskPool watch is the only thing the operator itself asks for.
        try (OperatorApp operator = OperatorApp.outsideKubernetes(client, "op-outside",
                Map.of("spring.cloud.kubernetes.leader.election.enabled", "false"))) {
            await("controller running").atMost(Duration.ofSeconds(30)).until(() -> operator.runner().watching());

            assertThat(operator.context.getEnvironment().getProperty("javastor.operator.refresh")).isEqualTo("30s");
            assertThat(operator.context.getEnvironment().getProperty("spring.cloud.kubernetes.config.sources[0].name"))
                    .as("the Kubernetes document is not active").isNull();
            assertThat(operator.context.getBeansOfType(ConfigurationChangeDetector.class)).isEmpty();
            assertThat(operator.context.containsBean("configKubernetesClient")).isFalse();

            List<String> paths = new ArrayList<>();
            RecordedRequest r;
            while ((r = server.takeRequest(100, TimeUnit.MILLISECONDS)) != null) {
                paths.add(r.getMethod() + " " + r.getPath());
            }
            assertThat(paths).as("requests the operator made").isNotEmpty()
                    .allMatch(p -> p.contains("/diskpools"), "are about DiskPools only");
        }
    }
}
