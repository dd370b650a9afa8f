package io.javastor.ioengine;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.scheduling.annotation.EnableScheduling;

/** The per-node io-engine: pools, replicas and (later) NVMe-oF shares and nexuses, driven over gRPC. */
@SpringBootApplication
@ConfigurationPropertiesScan
@EnableScheduling
public class IoEngineApplication {
    public static void main(String[] args) {
        SpringApplication.run(IoEngineApplication.class, args);
    }
}
