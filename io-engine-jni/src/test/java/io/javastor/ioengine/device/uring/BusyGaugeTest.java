package io.javastor.ioengine.device.uring;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BusyGaugeTest {
    private static final long W = BusyGauge.WINDOW_NANOS;

    /** Runs one full window from {@code start} in which the thread slept {@code asleepPercent} of the time. */
    private static boolean window(BusyGauge g, long start, int asleepPercent) {
        g.slept(W * asleepPercent / 100);
        return g.saturated(start + W);
    }

    @Test
    void aThreadBusyForMostOfAWindowIsSaturatedAndStaysSoUntilItSleepsAThird() {
        BusyGauge g = new BusyGauge();
        long t = System.nanoTime();
        assertThat(g.saturated(t)).as("before a full window").isFalse();
        assertThat(window(g, t, 50)).as("half asleep").isFalse();
        t += W;
        assertThat(window(g, t, 15)).as("85 %% busy: under the 90 %% to become saturated").isFalse();
        t += W;
        assertThat(window(g, t, 5)).as("95 %% busy").isTrue();
        t += W;
        assertThat(window(g, t, 25)).as("75 %% busy: still above the 70 %% to leave").isTrue();
        t += W;
        assertThat(window(g, t, 40)).as("60 %% busy").isFalse();
    }

    @Test
    void theVerdictChangesOnlyAtTheEndOfAWindow() {
        BusyGauge g = new BusyGauge();
        long t = System.nanoTime();
        assertThat(window(g, t, 0)).isTrue();
        t += W;
        g.slept(W); // asleep the whole next window, but it has not ended yet
        assertThat(g.saturated(t + W / 2)).isTrue();
        assertThat(g.saturated(t + W)).isFalse();
    }
}
