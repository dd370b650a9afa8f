package io.javastor.csi;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;

/**
 * The Javastor CSI plugin: one binary, run as the controller plugin (beside the CSI sidecars, talking to the REST
 * gateway) or as the node plugin (on every application node, driving the kernel NVMe/TCP initiator and mounts),
 * chosen by {@code javastor.csi.mode}. It serves CSI v1 over a unix domain socket.
 */
@SpringBootApplication
@EnableConfigurationProperties(CsiProperties.class)
public class CsiApplication {
    public static void main(String[] args) {
        SpringApplication.run(CsiApplication.class, args);
    }
}
