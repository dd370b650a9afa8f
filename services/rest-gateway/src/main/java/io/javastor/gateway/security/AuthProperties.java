package io.javastor.gateway.security;

import java.nio.charset.StandardCharsets;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Bearer-token authentication of /v0 (off by default, for the dev cluster).
 *
 * @param enabled   require "Authorization: Bearer JWT" on every /v0 call except the OpenAPI document
 * @param jwtSecret the HMAC-SHA256 key tokens are signed with; at least 32 bytes when enabled
 */
@ConfigurationProperties("javastor.gateway.auth")
public record AuthProperties(boolean enabled, String jwtSecret) {
    public AuthProperties {
        if (enabled && (jwtSecret == null || jwtSecret.getBytes(StandardCharsets.UTF_8).length < 32)) {
            throw new IllegalArgumentException("javastor.gateway.auth.jwt-secret: at least 32 bytes are needed when auth is enabled");
        }
    }
}
