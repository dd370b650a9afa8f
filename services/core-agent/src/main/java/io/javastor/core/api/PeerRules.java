package io.javastor.core.api;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;
import org.springframework.grpc.server.GlobalServerInterceptor;

import io.grpc.ServerInterceptor;
import io.javastor.api.core.v1.RegistrationGrpc;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.api.tls.ClusterTls;
import io.javastor.api.tls.PeerAuthorization;

/**
 * Who may call the core agent (mTLS, docs/security.md): io-engines register, heartbeat and report their children
 * (each for its own node: {@code RegistrationApi}); CSI node plugins report failed paths; the REST gateway calls the
 * rest. Health and reflection are open to any peer of the cluster.
 */
@Configuration(proxyBeanMethods = false)
public class PeerRules {

    @Bean
    ClusterTls clusterTls(Environment env) {
        return ClusterTls.fromProperties(env::getProperty, "core agent");
    }

    @Bean
    @GlobalServerInterceptor
    @Order(Ordered.HIGHEST_PRECEDENCE)
    ServerInterceptor peerAuthorization(ClusterTls tls) {
        return PeerAuthorization.rules()
                .service(RegistrationGrpc.SERVICE_NAME, ClusterPeer.Node.class, ClusterPeer.AnyNode.class)
                .method(VolumeServiceGrpc.getReportFailedPathMethod().getFullMethodName(),
                        ClusterPeer.CsiNode.class, ClusterPeer.RestGateway.class)
                // Secrets go to the hosts that connect with them, never through the REST API.
                .method(VolumeServiceGrpc.getGetHostSecretsMethod().getFullMethodName(), ClusterPeer.CsiNode.class)
                .anyPeer("grpc.health.v1.Health")
                .otherwise(ClusterPeer.RestGateway.class)
                .buildFor(tls);
    }
}
