package io.javastor.operator;

import java.net.InetAddress;
import java.net.UnknownHostException;

import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javastor.api.rest.BearerTokenFile;
import io.javastor.operator.rest.PoolsApi;

@Configuration(proxyBeanMethods = false)
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
    OperatorRunner operatorRunner(KubernetesClient client, PoolsApi pools, OperatorProperties props) {
        String namespace = props.namespace().isBlank() ? client.getNamespace() : props.namespace();
        if (namespace == null || namespace.isBlank()) {
            namespace = "default";
        }
        return new OperatorRunner(client, pools, props, namespace, identity(props));
    }

    @Bean
    OperatorHealth diskPoolOperatorHealthIndicator(OperatorRunner runner) {
        return new OperatorHealth(runner);
    }

    private static String identity(OperatorProperties props) {
        if (!props.leaderElection().identity().isBlank()) {
            return props.leaderElection().identity();
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
