package io.javastor.csi.server;

import io.grpc.BindableService;
import io.javastor.csi.CsiProperties;
import io.javastor.csi.controller.ControllerService;
import io.javastor.api.rest.BearerTokenFile;
import io.javastor.csi.controller.RestGateway;
import io.javastor.csi.node.Mounter;
import io.javastor.csi.node.NodeService;
import io.javastor.csi.node.NvmeCli;
import io.javastor.csi.node.path.PathAgent;
import io.grpc.ManagedChannel;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.api.tls.ClusterTls;
import io.javastor.api.core.v1.AppNodeServiceGrpc;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.csi.node.registration.AppNodeRegistration;
import io.javastor.csi.node.HostSecrets;
import io.javastor.csi.metrics.CallMeters;
import io.javastor.csi.metrics.MetricsEndpoint;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

import java.util.ArrayList;
import java.util.List;

/** Wires the services of the configured mode; they are plain objects (not gRPC beans) served by {@link CsiServer}. */
@Configuration(proxyBeanMethods = false)
public class CsiConfiguration {

    @Bean
    CsiServer csiServer(CsiProperties props, org.springframework.beans.factory.ObjectProvider<ManagedChannel> coreAgentChannel,
                        org.springframework.beans.factory.ObjectProvider<PathAgent> pathAgent, PrometheusMeterRegistry meters) {
        String version = CsiConfiguration.class.getPackage().getImplementationVersion();
        List<BindableService> services = new ArrayList<>();
        if (props.getMode() == CsiProperties.Mode.CONTROLLER) {
            RestGateway gateway = new RestGateway(props.getRestUrl(), props.getRestTimeout(),
                    props.getRestTokenFile() == null ? BearerTokenFile.none() : new BearerTokenFile(props.getRestTokenFile()),
                    props.getRestCaFile());
            services.add(new IdentityService(props, version == null ? "0.1.0" : version, () -> true));
            services.add(new ControllerService(props, gateway));
        } else {
            // With a core agent, the DH-HMAC-CHAP secrets of this node's connections come from it.
            ManagedChannel agent = coreAgentChannel.getIfAvailable();
            HostSecrets secrets = agent == null ? HostSecrets.none()
                    : HostSecrets.fromAgent(VolumeServiceGrpc.newBlockingStub(agent), props.getPathReportTimeout());
            PathAgent paths = pathAgent.getIfAvailable();
            NodeService node = new NodeService(props, new NvmeCli(), new Mounter(), secrets, paths == null ? nqn -> { } : paths::connecting);
            services.add(new IdentityService(props, version == null ? "0.1.0" : version, () -> true));
            services.add(node);
        }
        return new CsiServer(props, services, List.of(new CallMeters(meters)));
    }

    /** The plugin's meters (no Actuator here: the plugin has no web application), scraped through {@link MetricsEndpoint}. */
    @Bean(destroyMethod = "close")
    PrometheusMeterRegistry csiMeters() {
        return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnExpression("'${javastor.csi.metrics-port:}' != ''")
    MetricsEndpoint metricsEndpoint(CsiProperties props, PrometheusMeterRegistry meters) {
        return new MetricsEndpoint(meters, props.getMetricsAddress(), props.getMetricsPort());
    }

    /** Node mode with a core agent address: the path agent (lost paths reported, the target's new address connected). */
    @Bean(destroyMethod = "close")
    @ConditionalOnExpression(NODE_WITH_AGENT)
    PathAgent pathAgent(CsiProperties props, ManagedChannel coreAgentChannel) {
        PathAgent.HostSettings host = new PathAgent.HostSettings(NodeService.HOST_NQN_PREFIX + props.nodeId(), props.nodeId(),
                props.getCtrlLossTimeoutSeconds(), props.getReconnectDelaySeconds());
        return new PathAgent(new NvmeCli(), VolumeServiceGrpc.newBlockingStub(coreAgentChannel),
                HostSecrets.fromAgent(VolumeServiceGrpc.newBlockingStub(coreAgentChannel), props.getPathReportTimeout()), host, props.getPathFailAfter(),
                props.getPathReportTimeout(), java.time.Clock.systemUTC()).start(props.getPathCheckInterval());
    }

    /** Node mode with a core agent address: the node registers itself as an app node (the controller publishes only to those). */
    @Bean(destroyMethod = "close")
    @ConditionalOnExpression(NODE_WITH_AGENT)
    AppNodeRegistration appNodeRegistration(CsiProperties props, ManagedChannel coreAgentChannel) {
        AppNodeRegistration.Settings settings = new AppNodeRegistration.Settings(props.nodeId(), props.appNodeEndpointOrDefault(),
                AppNodeRegistration.labels(props.getTopology(), java.nio.file.Path.of("/sys/module/nvme_core/parameters/multipath")),
                props.getAppNodeRefreshInterval(), props.getAppNodeMaxRetryDelay());
        return new AppNodeRegistration(AppNodeServiceGrpc.newBlockingStub(coreAgentChannel), settings).start();
    }

    @Bean(destroyMethod = "shutdownNow")
    @ConditionalOnExpression(NODE_WITH_AGENT)
    ManagedChannel coreAgentChannel(CsiProperties props, Environment env) {
        // mTLS as csi-node (javastor.tls.*): the agent lets this certificate report failed paths and
        // ask for the secrets of this node's connections, nothing else.
        ClusterTls tls = ClusterTls.fromProperties(env::getProperty, "CSI node plugin");
        // Every agent, in turn: a standby answers UNAVAILABLE and the path agent's next pass asks the next one.
        ManagedChannel channel = tls.channelTo(props.getCoreAgentAddress(), ClusterPeer.CORE_AGENT).defaultLoadBalancingPolicy("round_robin")
                .idleTimeout(30, java.util.concurrent.TimeUnit.DAYS).build();
        // Connect now and stay connected: the TLS handshake is paid at start, not by the first report of a lost path
        // (on a slow node, seconds of every host's I/O pause; seen as the failover VM test's first move coming late).
        channel.getState(true);
        return channel;
    }

    private static final String NODE_WITH_AGENT =
            "'${javastor.csi.mode:controller}'.equalsIgnoreCase('node') and '${javastor.csi.core-agent-address:}' != ''";
}
