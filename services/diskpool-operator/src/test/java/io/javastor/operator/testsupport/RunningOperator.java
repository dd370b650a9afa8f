package io.javastor.operator.testsupport;

import java.util.HashMap;
import java.util.Map;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javastor.operator.DiskPoolOperatorApplication;
import io.javastor.operator.OperatorRunner;

/** The whole operator (the Spring Boot app) in this JVM, talking to the given Kubernetes API client. */
public final class RunningOperator implements AutoCloseable {
    private static final java.util.concurrent.atomic.AtomicInteger STARTED = new java.util.concurrent.atomic.AtomicInteger();
    private final ConfigurableApplicationContext context;
    private final KubernetesClient client;

    private RunningOperator(ConfigurableApplicationContext context, KubernetesClient client) {
        this.context = context;
        this.client = client;
    }

    /** The operator against this gateway, sending the token in {@code restTokenFile} (an admin's: it creates pools). */
    public static RunningOperator start(KubernetesClient client, String restUrl, java.nio.file.Path restTokenFile,
            Map<String, String> overrides) {
        Map<String, String> props = new HashMap<>();
        props.put("server.port", "0");
        props.put("javastor.operator.rest-url", restUrl);
        props.put("javastor.operator.rest-ca-file", io.javastor.testsupport.ClusterCertificates.shared().dir().resolve("ca.crt").toString());
        props.put("javastor.operator.rest-token-file", restTokenFile.toString());
        props.put("javastor.operator.namespace", "storage");
        props.put("javastor.operator.refresh", "1s");
        props.put("javastor.operator.retry.initial-delay", "500ms");
        props.put("javastor.operator.retry.max-delay", "4s");
        props.put("javastor.operator.rest-timeout", "20s");
        props.put("spring.cloud.kubernetes.leader.election.lease-duration", "4s");
        props.put("spring.cloud.kubernetes.leader.election.renew-deadline", "3s");
        props.put("spring.cloud.kubernetes.leader.election.retry-period", "500ms");
        props.put("javastor.operator.identity", "operator-" + STARTED.incrementAndGet());
        props.put("logging.level.io.fabric8.mockwebserver", "WARN");
        props.putAll(overrides);
        String[] args = props.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
        ConfigurableApplicationContext ctx = new SpringApplicationBuilder(DiskPoolOperatorApplication.class)
                .initializers(c -> c.getBeanFactory().registerSingleton("kubernetesClient", client))
                .run(args);
        return new RunningOperator(ctx, client);
    }

    public OperatorRunner runner() {
        return context.getBean(OperatorRunner.class);
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + context.getEnvironment().getProperty("local.server.port");
    }

    public boolean closed() {
        return !context.isActive();
    }

    @Override
    public void close() {
        context.close();
        client.close();
    }
}
