package io.javastor.gateway;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** The public REST API (/v0) in front of the core agent. Stateless: every answer comes from the agent. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class RestGatewayApplication {
    public static void main(String[] args) {
        SpringApplication.run(RestGatewayApplication.class, args);
    }
}
