package io.javastor.gateway.limits;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Size caps on what a caller may send (URL and header caps are the server's: {@code server.max-http-request-header-size}).
 *
 * @param maxBody the largest request body; every v0 body is a small JSON object, so a few KiB would do
 */
@ConfigurationProperties("javastor.gateway.limits")
public record RequestLimits(@DefaultValue("64KB") DataSize maxBody) {
    public RequestLimits {
        if (maxBody.toBytes() < 1024 || maxBody.toBytes() > 16L * 1024 * 1024) {
            throw new IllegalArgumentException("javastor.gateway.limits.max-body: " + maxBody + " is outside 1KB..16MB");
        }
    }
}
