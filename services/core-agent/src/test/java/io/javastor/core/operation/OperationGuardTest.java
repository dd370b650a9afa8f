package io.javastor.core.operation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

class OperationGuardTest {

    @Test
    void oneHolderPerResourceAndNothingLeftBehind() throws Exception {
        OperationGuard guard = new OperationGuard("volume");
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger maxInside = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> tasks = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                String id = "v" + (i % 3);
                tasks.add(pool.submit(() -> {
                    try (var held = guard.acquire(id, Duration.ofSeconds(30))) {
                        if (id.equals("v0")) {
                            maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                            inside.decrementAndGet();
                        }
                    }
                }));
            }
            for (Future<?> f : tasks) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(maxInside.get()).isEqualTo(1);
        assertThat(guard.active()).isZero();
    }

    @Test
    void busyResourceIsAConflictForCallersAndNullForReconcilers() throws Exception {
        OperationGuard guard = new OperationGuard("pool");
        try (var held = guard.acquire("p1", Duration.ofSeconds(1))) {
            ExecutorService other = Executors.newSingleThreadExecutor();
            try {
                // From another thread (the lock is reentrant for its holder).
                assertThat(other.submit(() -> guard.tryAcquire("p1")).get(5, TimeUnit.SECONDS)).isNull();
                Future<?> waiting = other.submit(() -> guard.acquire("p1", Duration.ofMillis(50)));
                assertThatThrownBy(() -> waiting.get(5, TimeUnit.SECONDS))
                        .hasCauseInstanceOf(CoreException.Conflict.class).hasMessageContaining("pool p1: another operation is in progress");
            } finally {
                other.shutdownNow();
            }
            assertThat(guard.tryAcquire("p2")).isNotNull().satisfies(OperationGuard.Held::close);
        }
        assertThat(guard.active()).isZero();
    }
}
