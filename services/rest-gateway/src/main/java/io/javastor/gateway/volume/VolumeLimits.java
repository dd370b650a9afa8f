package io.javastor.gateway.volume;

import org.springframework.boot.context.properties.ConfigurationProperties;

/** @param maxReplicas the largest replica count accepted (the core agent's own limit is 16) */
@ConfigurationProperties("javastor.gateway.volumes")
public record VolumeLimits(int maxReplicas) {
    public VolumeLimits {
        if (maxReplicas < 1) {
            throw new IllegalArgumentException("javastor.gateway.volumes.max-replicas: must be at least 1");
        }
    }
}
