package io.javastor.csi.server;

import io.grpc.BindableService;
import io.javastor.csi.CsiProperties;
import io.javastor.csi.controller.ControllerService;
import io.javastor.csi.controller.BearerTokenFile;
import io.javastor.csi.controller.RestGateway;
import io.javastor.csi.node.Mounter;
import io.javastor.csi.node.NodeService;
import io.javastor.csi.node.NvmeCli;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.util.ArrayList;
import java.util.List;

/** Wires the services of the configured mode; they are plain objects (not gRPC beans) served by {@link CsiServer}. */
@Configuration(proxyBeanMethods = false)
public class CsiConfiguration {

    @Bean
    CsiServer csiServer(CsiProperties props) {
        String version = CsiConfiguration.class.getPackage().getImplementationVersion();
        List<BindableService> services = new ArrayList<>();
        if (props.getMode() == CsiProperties.Mode.CONTROLLER) {
            RestGateway gateway = new RestGateway(props.getRestUrl(), props.getRestTimeout(),
                    props.getRestTokenFile() == null ? BearerTokenFile.none() : new BearerTokenFile(props.getRestTokenFile()));
            services.add(new IdentityService(props, version == null ? "0.1.0" : version, () -> true));
            services.add(new ControllerService(props, gateway));
        } else {
            NodeService node = new NodeService(props, new NvmeCli(), new Mounter());
            services.add(new IdentityService(props, version == null ? "0.1.0" : version, () -> true));
            services.add(node);
        }
        return new CsiServer(props, services);
    }
}
