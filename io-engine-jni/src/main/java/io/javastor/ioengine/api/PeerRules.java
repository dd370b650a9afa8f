package io.javastor.ioengine.api;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;
import org.springframework.grpc.server.GlobalServerInterceptor;

import io.grpc.ServerInterceptor;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.api.tls.ClusterTls;
import io.javastor.api.tls.PeerAuthorization;

/**
 * Who may call the io-engine (mTLS, docs/security.md): the core agent only; health is open to any peer of the
 * cluster. The same files are this engine's client identity towards the agent ({@code CoreAgentChannels}).
 */
@Configuration(proxyBeanMethods = false)
public class PeerRules {

    @Bean
    ClusterTls clusterTls(Environment env) {
        return ClusterTls.fromProperties(env::getProperty, "io-engine");
    }

    @Bean
    @GlobalServerInterceptor
    @Order(Ordered.HIGHEST_PRECEDENCE)
    ServerInterceptor peerAuthorization(ClusterTls tls) {
        return PeerAuthorization.rules()
                .anyPeer("grpc.health.v1.Health")
                .otherwise(ClusterPeer.CoreAgent.class)
                .buildFor(tls);
    }
}
