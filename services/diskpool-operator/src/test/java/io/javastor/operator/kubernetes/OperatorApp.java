package io.javastor.operator.kubernetes;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.ConfigurableApplicationContext;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javastor.operator.DiskPoolOperatorApplication;
import io.javastor.operator.OperatorRunner;

/**
 * The whole operator (the Spring Boot app) in this JVM with {@code kubernetes-sources.yaml} (the chart's Kubernetes
 * document), recording the application events it publishes. No REST gateway: these tests make no DiskPools.
 */
final class OperatorApp implements AutoCloseable {
    static final String NAMESPACE = "storage";

    final ConfigurableApplicationContext context;
    final List<ApplicationEvent> events;

    private OperatorApp(ConfigurableApplicationContext context, List<ApplicationEvent> events) {
        this.context = context;
        this.events = events;
    }

    /**
     * In Kubernetes: the cloud platform forced, Spring Cloud Kubernetes' client (the one every part of the operator then
     * uses) pointed at {@code api}.
     */
    static OperatorApp inKubernetes(KubernetesClient api, String identity, Map<String, String> overrides) {
        Map<String, String> props = new HashMap<>();
        props.put("spring.main.cloud-platform", "kubernetes");
        props.put("spring.cloud.kubernetes.client.master-url", api.getConfiguration().getMasterUrl());
        props.put("spring.cloud.kubernetes.client.trust-certs", "true");
        props.put("spring.cloud.kubernetes.client.namespace", NAMESPACE);
        props.putAll(overrides);
        return start(null, identity, props);
    }

    /** Outside Kubernetes (no cloud platform): the operator's own client, given here, as from a kubeconfig. */
    static OperatorApp outsideKubernetes(KubernetesClient api, String identity, Map<String, String> overrides) {
        return start(api, identity, overrides);
    }

    private static OperatorApp start(KubernetesClient client, String identity, Map<String, String> overrides) {
        Map<String, String> props = new HashMap<>();
        props.put("spring.config.additional-location", "classpath:/kubernetes-sources.yaml");
        props.put("server.port", "0");
        props.put("javastor.operator.namespace", NAMESPACE);
        props.put("javastor.operator.identity", identity);
        props.put("spring.cloud.kubernetes.leader.election.lock-namespace", NAMESPACE);
        props.put("spring.cloud.kubernetes.leader.election.lease-duration", "4s");
        props.put("spring.cloud.kubernetes.leader.election.renew-deadline", "3s");
        props.put("spring.cloud.kubernetes.leader.election.retry-period", "500ms");
        props.put("logging.level.io.fabric8.mockwebserver", "WARN");
        props.putAll(overrides);
        String[] args = props.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
        List<ApplicationEvent> events = new CopyOnWriteArrayList<>();
        SpringApplicationBuilder app = new SpringApplicationBuilder(DiskPoolOperatorApplication.class)
                .listeners(events::add);
        if (client != null) {
            app.initializers(c -> c.getBeanFactory().registerSingleton("kubernetesClient", client));
        }
        return new OperatorApp(app.run(args), events);
    }

    OperatorRunner runner() {
        return context.getBean(OperatorRunner.class);
    }

    <T extends ApplicationEvent> List<T> events(Class<T> type) {
        return events.stream().filter(type::isInstance).map(type::cast).toList();
    }

    @Override
    public void close() {
        context.close();
    }
}
