package io.javastor.core.watch;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Watch callbacks, under {@code javastor.core.watches}.
 *
 * @param callbackTimeout bounds one callback call, connection included: a dead receiver costs this, never a reconciler
 * @param maxRetryDelay   a failing callback is retried after 1 s, doubling up to this
 * @param maxInFlight     calls under way at once, over all watches; beyond it the rest wait for the next pass
 */
@ConfigurationProperties("javastor.core.watches")
public record WatchProperties(@DefaultValue("2s") Duration callbackTimeout,
                              @DefaultValue("30s") Duration maxRetryDelay,
                              @DefaultValue("32") int maxInFlight) {}
