package io.javastor.core.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The loop itself: what {@code javastor.core.reconcile.disabled} leaves out, and a name it does not know. */
class ReconcilePollerTest {

    /** A reconciler that counts its passes. */
    private record Counting(String name, AtomicInteger passes) implements Reconciler {
        Counting(String name) {
            this(name, new AtomicInteger());
        }

        @Override
        public ReconcileOutcome reconcile() {
            passes.incrementAndGet();
            return ReconcileOutcome.IDLE;
        }
    }

    @Test
    void aDisabledReconcilerIsLeftOutOfEveryPassAndStillReachable() {
        Counting running = new Counting("running");
        Counting frozen = new Counting("frozen");
        try (ReconcilePoller poller = new ReconcilePoller(List.of(running, frozen), Set.of("frozen"), () -> true,
                Duration.ofMillis(20), new SimpleMeterRegistry())) {
            poller.start();
            await("three passes").atMost(Duration.ofSeconds(10)).until(() -> running.passes().get() >= 3);
            assertThat(frozen.passes()).hasValue(0);
            assertThat(poller.reconciler(Counting.class)).as("the first of the type, in pass order").isSameAs(running);
            assertThat(poller.reconcilers()).containsExactly(running, frozen);
        }
    }

    @Test
    void aDisabledNameThatIsNoReconcilerIsRefusedWithTheNamesThereAre() {
        assertThatThrownBy(() -> new ReconcilePoller(List.of(new Counting("node-liveness"), new Counting("extra-replicas")),
                Set.of("extra-replica"), () -> true, Duration.ofSeconds(1), new SimpleMeterRegistry()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'extra-replica'")
                .hasMessageContaining("node-liveness, extra-replicas");
    }
}
