package io.javastor.gateway.coreclient;

import java.time.Duration;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Where the core agent runs and how long one call to it may take.
 *
 * @param addresses   host:port of every agent replica; only the leader serves, so the gateway tries them in turn
 * @param callTimeout the gRPC deadline of every call
 */
@ConfigurationProperties("javastor.gateway.core-agent")
public record CoreAgentProperties(List<String> addresses, Duration callTimeout) {
    public CoreAgentProperties {
        if (addresses == null || addresses.isEmpty()) {
            throw new IllegalArgumentException("javastor.gateway.core-agent.addresses: at least one host:port is needed");
        }
        if (callTimeout == null || callTimeout.isZero() || callTimeout.isNegative()) {
            throw new IllegalArgumentException("javastor.gateway.core-agent.call-timeout: must be positive");
        }
    }
}
