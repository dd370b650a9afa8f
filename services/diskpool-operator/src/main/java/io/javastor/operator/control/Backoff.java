package io.javastor.operator.control;

import java.time.Duration;

import io.github.resilience4j.core.IntervalFunction;

/**
 * Exponential back-off of failed reconciles: {@code initial}, doubling, capped at {@code max}, with
 * +/-20 % jitter so several failing resources do not retry in lockstep (resilience4j's IntervalFunction).
 */
public final class Backoff {
    private final IntervalFunction intervals;

    public Backoff(Duration initial, Duration max) {
        this.intervals = IntervalFunction.ofExponentialRandomBackoff(initial, 2.0, 0.2, max);
    }

    /** The delay before attempt {@code failures + 1}, after {@code failures} (>= 1) failed attempts in a row. */
    public Duration after(int failures) {
        return Duration.ofMillis(intervals.apply(Math.max(1, failures)));
    }
}
