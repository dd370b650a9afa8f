package io.javastor.ioengine.api;

import io.javastor.ioengine.IoEngineProperties;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/** The address other parts use to reach this engine's gRPC API. */
@Component
public class EngineEndpoint {
    private final IoEngineProperties props;
    private final Environment env;

    public EngineEndpoint(IoEngineProperties props, Environment env) {
        this.props = props;
        this.env = env;
    }

    public String grpcEndpoint() {
        if (!props.advertisedEndpoint().isBlank()) {
            return props.advertisedEndpoint();
        }
        String host = env.getProperty("spring.grpc.server.host", "127.0.0.1");
        if (host.equals("*") || host.equals("0.0.0.0")) {
            host = "127.0.0.1";
        }
        String port = env.getProperty("local.grpc.port", env.getProperty("spring.grpc.server.port", "10124"));
        return host + ":" + port;
    }
}
