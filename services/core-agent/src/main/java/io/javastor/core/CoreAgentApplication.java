package io.javastor.core;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** The control plane: specs in etcd, observed state from io-engines, reconcilers, event history. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class CoreAgentApplication {
    public static void main(String[] args) {
        SpringApplication.run(CoreAgentApplication.class, args);
    }
}
