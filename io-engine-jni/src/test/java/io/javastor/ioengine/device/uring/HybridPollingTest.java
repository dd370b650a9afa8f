package io.javastor.ioengine.device.uring;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.DmaBuffers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The poller sleeps until a window before a lone operation is due, spins through the window, and sleeps when it is late. */
class HybridPollingTest {
    private static final long US = 1_000;

    @TempDir
    Path dir;

    @Test
    void aLoneOperationWaitingTheHybridWaySleepsUntilTheWindowSpinsThroughItThenSleepsWhenLate() {
        HybridPolling p = new HybridPolling(10 * US);
        // Nothing measured yet: no guess, sleep until the completion comes.
        assertThat(p.submitted(1_000 * US, true)).isEqualTo(HybridPolling.SLEPT);
        assertThat(p.waitNanos(1_001 * US, 1)).isEqualTo(HybridPolling.UNTIL_COMPLETION);
        p.completedAlone(HybridPolling.SLEPT, 1_000 * US, 1_040 * US);
        assertThat(p.expectedNanos()).isEqualTo(40 * US);

        // The hybrid way is not measured yet: the next lone operation tries it. Due at 2_040 us; window 2_030..2_050.
        assertThat(p.submitted(2_000 * US, true)).isEqualTo(HybridPolling.HYBRID);
        assertThat(p.waitNanos(2_001 * US, 1)).isEqualTo(29 * US);
        assertThat(p.waitNanos(2_028 * US, 1)).as("a sleep too short for a system call is spun").isZero();
        assertThat(p.waitNanos(2_030 * US, 1)).isZero();
        assertThat(p.waitNanos(2_049 * US, 1)).isZero();
        assertThat(p.waitNanos(2_050 * US, 1)).as("late: stop burning the core").isEqualTo(HybridPolling.UNTIL_COMPLETION);
        // Several in flight: completions come in batches, the kernel wakes the poller for each.
        assertThat(p.waitNanos(2_035 * US, 2)).isEqualTo(HybridPolling.UNTIL_COMPLETION);
        assertThat(p.submitted(2_001 * US, false)).isEqualTo(HybridPolling.NOT_ALONE);
    }

    @Test
    void theFasterWayIsUsedAndTheOtherIsTriedOnceInAWhile() {
        HybridPolling p = new HybridPolling(10 * US);
        p.completedAlone(p.submitted(0, true), 0, 40 * US);
        long t = 0;
        // Spinning slows this machine's I/O down (as on a VM): 55 us against 40 us asleep.
        int hybrid = 0;
        for (int i = 0; i < 10 * HybridPolling.EXPLORE_EVERY; i++) {
            t += 1_000 * US;
            byte how = p.submitted(t, true);
            hybrid += how == HybridPolling.HYBRID ? 1 : 0;
            // What a loop that polls the reactor itself follows (the NVMe/TCP target's): the way this operation waits.
            assertThat(p.loneOperationSpins()).isEqualTo(how == HybridPolling.HYBRID);
            p.completedAlone(how, t, t + (how == HybridPolling.HYBRID ? 55 : 40) * US);
        }
        assertThat(p.spinning()).isFalse();
        assertThat(hybrid).as("tried once in %d, plus the first try", HybridPolling.EXPLORE_EVERY).isBetween(10, 12);
        assertThat(p.waitNanos(t + 1 * US, 1)).isEqualTo(HybridPolling.UNTIL_COMPLETION);

        // The machine changes: now the spin saves the wake-up (30 us against 40 us). The explorations notice (the
        // hybrid average needs about six of them to come down from 55 us).
        int slept = 0;
        for (int i = 0; i < 20 * HybridPolling.EXPLORE_EVERY; i++) {
            t += 1_000 * US;
            byte how = p.submitted(t, true);
            slept += i >= 10 * HybridPolling.EXPLORE_EVERY && how == HybridPolling.SLEPT ? 1 : 0;
            assertThat(p.loneOperationSpins()).isEqualTo(how == HybridPolling.HYBRID);
            p.completedAlone(how, t, t + (how == HybridPolling.HYBRID ? 30 : 40) * US);
        }
        assertThat(p.spinning()).isTrue();
        assertThat(slept).as("once settled, sleeping is only tried").isBetween(9, 11);
    }

    @Test
    void oneSlowOperationDoesNotFlipTheChoice() {
        HybridPolling p = new HybridPolling(10 * US);
        long t = 0;
        for (int i = 0; i < 4 * HybridPolling.EXPLORE_EVERY; i++) {
            t += 1_000 * US;
            byte how = p.submitted(t, true);
            p.completedAlone(how, t, t + (how == HybridPolling.HYBRID ? 55 : 40) * US);
        }
        assertThat(p.spinning()).isFalse();
        t += 1_000 * US;
        byte how = p.submitted(t, true);
        assertThat(how).isEqualTo(HybridPolling.SLEPT);
        p.completedAlone(how, t, t + 300 * US); // a host hiccup
        assertThat(p.spinning()).as("one outlier counts as twice the usual, not as 300 us").isFalse();
    }

    @Test
    void aZeroWindowNeverSpinsAndANegativeOneIsRefused() {
        HybridPolling never = new HybridPolling(0);
        for (long t = 0; t < 100; t++) {
            byte how = never.submitted(t * 100 * US, true);
            assertThat(how).isEqualTo(HybridPolling.SLEPT);
            assertThat(never.waitNanos(t * 100 * US + 35 * US, 1)).isEqualTo(HybridPolling.UNTIL_COMPLETION);
            never.completedAlone(how, t * 100 * US, t * 100 * US + 40 * US);
        }
        assertThat(never.spinning()).isFalse();
        assertThatThrownBy(() -> new HybridPolling(-1)).hasMessageContaining("spin window must be >= 0 ns, got -1");
    }

    @Test
    void aRealRingLearnsTheCompletionTimeOfLoneOperationsAndCompletesDeepQueuesToo() throws Exception {
        try (BlockDeviceFactory factory = new BlockDeviceFactory(64, 10, 0)) {
            BlockDevice disk = factory.open("uring://" + dir.resolve("disk.img") + "?size_mb=8");
            UringReactor reactor = factory.reactor();
            ByteBuffer block = DmaBuffers.allocate(4096);
            for (int i = 0; i < 4096; i += 8) {
                block.putLong(i, 0x5eed0000L + i);
            }
            long[] took = new long[200];
            for (int i = 0; i < took.length; i++) {
                long t0 = System.nanoTime();
                disk.write((i % 64) * 4096L, block.duplicate().clear()).get(30, TimeUnit.SECONDS);
                took[i] = System.nanoTime() - t0;
            }
            Arrays.sort(took);
            // The estimate is an average of what the ring itself saw, so it lies within what the caller saw.
            assertThat(reactor.expectedCompletionNanos()).isPositive().isLessThanOrEqualTo(took[took.length - 1]);

            List<CompletableFuture<Void>> deep = new ArrayList<>();
            for (int i = 0; i < 48; i++) {
                deep.add(disk.read((i % 64) * 4096L, DmaBuffers.allocate(4096)));
            }
            CompletableFuture.allOf(deep.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            ByteBuffer back = DmaBuffers.allocate(4096);
            disk.read(5 * 4096L, back).get(30, TimeUnit.SECONDS);
            assertThat(back).isEqualTo(block.duplicate().clear());
        }
    }
}
