package io.javastor.ioengine.device.uring;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class BusyGaugeTest {
    private static final long W = BusyGauge.WINDOW_NANOS;
    private final AtomicLong cpu = new AtomicLong(5_000_000_000L);
    private final BusyGauge gauge = new BusyGauge(cpu::get);
    private long now = 1_000_000_000L;

    /** One full window in which the thread was on a CPU {@code busyPercent} of the time; the verdict at its end. */
    private boolean window(int busyPercent) {
        cpu.addAndGet(W * busyPercent / 100);
        now += W;
        return gauge.saturated(now);
    }

    @Test
    void aThreadBusyForMostOfAWindowIsSaturatedAndStaysSoUntilItIdlesAThird() {
        assertThat(gauge.saturated(now)).as("the first call starts the first window").isFalse();
        assertThat(window(50)).as("half busy").isFalse();
        assertThat(window(85)).as("85 %% busy: under the 90 %% to become saturated").isFalse();
        assertThat(window(95)).as("95 %% busy").isTrue();
        assertThat(window(75)).as("75 %% busy: still above the 70 %% to leave").isTrue();
        assertThat(window(60)).as("60 %% busy").isFalse();
    }

    @Test
    void theVerdictChangesOnlyAtTheEndOfAWindow() {
        gauge.saturated(now);
        assertThat(window(100)).isTrue();
        cpu.addAndGet(0); // idle from here on
        assertThat(gauge.saturated(now + W / 2)).as("half a window idle").isTrue();
        assertThat(gauge.saturated(now + W)).as("a whole window idle").isFalse();
    }

    @Test
    void theRealGaugeMeasuresTheCallingThreadsCpu() throws InterruptedException {
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        BusyGauge real = new BusyGauge();
        long start = System.nanoTime();
        real.saturated(start);
        Thread.sleep(3 * W / 1_000_000); // the thread under test sleeps for three windows: not saturated
        assertThat(real.saturated(System.nanoTime())).as("a sleeping thread").isFalse();

        long from = System.nanoTime();
        long cpuFrom = threads.getCurrentThreadCpuTime();
        real.saturated(from);
        long t;
        long x = 0;
        while ((t = System.nanoTime()) - from < 3 * W) {
            x += t & 1; // on the CPU for three windows
        }
        boolean verdict = real.saturated(t);
        double onCpu = (threads.getCurrentThreadCpuTime() - cpuFrom) / (double) (t - from);
        org.junit.jupiter.api.Assumptions.assumeTrue(onCpu > 0.92,
                () -> "skipped: other threads took this one's CPU (on a CPU " + Math.round(onCpu * 100) + " % of the time)");
        assertThat(verdict).as("a spinning thread (%d, on a CPU %.2f of the time)", x, onCpu).isTrue();
    }
}
