package io.javastor.core;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;
import org.springframework.grpc.server.GlobalServerInterceptor;

import io.grpc.ServerInterceptor;
import io.javastor.api.core.v1.AppNodeServiceGrpc;
import io.javastor.api.core.v1.NodeCertificatesGrpc;
import io.javastor.api.core.v1.RegistrationGrpc;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.api.tls.ClusterTls;
import io.javastor.api.tls.PeerAuthorization;
import io.javastor.core.node.certificate.NodeCertificateProperties;

/**
 * Who may call the core agent (mTLS, docs/security.md): io-engines register, heartbeat and report their children
 * (each for its own node: {@code RegistrationApi}); where the agent issues node certificates, the shared io-engine
 * certificate may only ask for one ({@code NodeCertificateApi}) and acts for no node; CSI node plugins report failed paths, fetch their connections' secrets and register their node as an app node; the REST gateway calls the
 * rest. Health and reflection are open to any peer of the cluster. The rules name services of several packages, so they
 * live here beside the wiring, not in {@code api}, which the resource packages build on.
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
    ServerInterceptor peerAuthorization(ClusterTls tls, NodeCertificateProperties nodeCertificates) {
        PeerAuthorization.Builder rules = PeerAuthorization.rules();
        if (nodeCertificates.enabled()) {
            // The shared certificate only bootstraps: it gets a node its own certificate, and acts for no node.
            rules.service(RegistrationGrpc.SERVICE_NAME, ClusterPeer.Node.class)
                    .service(NodeCertificatesGrpc.SERVICE_NAME, ClusterPeer.AnyNode.class);
        } else {
            rules.service(RegistrationGrpc.SERVICE_NAME, ClusterPeer.Node.class, ClusterPeer.AnyNode.class);
        }
        return rules
                .method(VolumeServiceGrpc.getReportFailedPathMethod().getFullMethodName(),
                        ClusterPeer.CsiNode.class, ClusterPeer.RestGateway.class)
                // Secrets go to the hosts that connect with them, never through the REST API.
                .method(VolumeServiceGrpc.getGetHostSecretsMethod().getFullMethodName(), ClusterPeer.CsiNode.class)
                // A CSI node plugin registers the node it runs on as an app node (and deregisters it when it stops).
                .method(AppNodeServiceGrpc.getRegisterAppNodeMethod().getFullMethodName(), ClusterPeer.CsiNode.class, ClusterPeer.RestGateway.class)
                .method(AppNodeServiceGrpc.getDeregisterAppNodeMethod().getFullMethodName(), ClusterPeer.CsiNode.class, ClusterPeer.RestGateway.class)
                .anyPeer("grpc.health.v1.Health")
                .otherwise(ClusterPeer.RestGateway.class)
                .buildFor(tls);
    }
}
