package io.javastor.operator;

import java.net.InetAddress;
import java.net.UnknownHostException;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.cloud.kubernetes.commons.leader.election.LeaderElectionProperties;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javastor.api.rest.BearerTokenFile;
import io.javastor.operator.rest.PoolsApi;

/** Spring Cloud Kubernetes' leader-election settings ({@code spring.cloud.kubernetes.leader.election.*}) drive the Lease. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(LeaderElectionProperties.class)
class OperatorConfiguration {

    /** In a pod: the service account's token; elsewhere: KUBECONFIG / ~/.kube/config, as kubectl. */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    KubernetesClient kubernetesClient() {
        return new KubernetesClientBuilder().build();
    }

    @Bean
    PoolsApi poolsApi(OperatorProperties props) {
        return new PoolsApi(props.restUrl(), props.restTimeout(),
                props.restTokenFile().isBlank() ? BearerTokenFile.none() : new BearerTokenFile(java.nio.file.Path.of(props.restTokenFile())),
                props.restCaFile().isBlank() ? null : java.nio.file.Path.of(props.restCaFile()));
    }

    @Bean
    LiveOperatorProperties liveOperatorProperties(Environment environment, OperatorProperties props) {
        return new LiveOperatorProperties(environment, props);
    }

    @Bean
    OperatorRunner operatorRunner(KubernetesClient client, PoolsApi pools, LiveOperatorProperties props,
            LeaderElectionProperties election,
            // Spring Cloud Kubernetes' switch for its elector; off: this replica always leads (one replica only).
            @Value("${spring.cloud.kubernetes.leader.election.enabled:true}") boolean electionEnabled,
            ApplicationEventPublisher publisher) {
        OperatorProperties p = props.get();
        String namespace = p.namespace().isBlank() ? client.getNamespace() : p.namespace();
        if (namespace == null || namespace.isBlank()) {
            namespace = "default";
        }
        return new OperatorRunner(client, pools, props, election, electionEnabled, publisher, namespace, identity(p));
    }

    @Bean
    OperatorHealth diskPoolOperatorHealthIndicator(OperatorRunner runner) {
        return new OperatorHealth(runner);
    }

    private static String identity(OperatorProperties props) {
        if (!props.identity().isBlank()) {
            return props.identity();
        }
        String pod = System.getenv("POD_NAME");
        if (pod != null && !pod.isBlank()) {
            return pod;
        }
        try {
            return InetAddress.getLocalHost().getHostName() + "-" + ProcessHandle.current().pid();
        } catch (UnknownHostException e) {
            return "diskpool-operator-" + ProcessHandle.current().pid();
        }
    }
}
