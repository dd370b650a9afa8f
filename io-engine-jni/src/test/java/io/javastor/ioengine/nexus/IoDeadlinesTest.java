package io.javastor.ioengine.nexus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** The nexus's record of child I/Os in flight: only what is still in flight at its deadline expires, and exactly once. */
class IoDeadlinesTest {

    /** An I/O that counts its expiries. */
    private static final class Io extends IoDeadlines.Entry {
        final AtomicInteger expired = new AtomicInteger();

        @Override
        void expire() {
            expired.incrementAndGet();
        }
    }

    private static Thread started(Runnable r) {
        Thread t = new Thread(r);
        t.start();
        return t;
    }

    @Test
    void onlyWhatIsStillInFlightAtItsDeadlineExpires() {
        long timeout = TimeUnit.SECONDS.toNanos(5);
        IoDeadlines d = new IoDeadlines(timeout);
        Io finished = new Io();
        Io hung = new Io();
        long before = System.nanoTime();
        d.track(finished);
        d.track(hung);
        long after = System.nanoTime();
        d.untrack(finished);
        assertThat(d.sweep(before + timeout - 1)).as("before the deadline").isZero();
        assertThat(d.isEmpty()).isFalse();
        assertThat(d.sweep(after + timeout)).isEqualTo(1);
        assertThat(hung.expired).hasValue(1);
        assertThat(finished.expired).hasValue(0);
        assertThat(d.isEmpty()).isTrue();
        // Finishing after it expired changes nothing, and it never expires twice.
        d.untrack(hung);
        assertThat(d.sweep(after + 10 * timeout)).isZero();
        assertThat(hung.expired).hasValue(1);
        assertThatThrownBy(() -> {
            Io twice = new Io();
            d.track(twice);
            d.track(twice);
        }).isInstanceOf(IllegalStateException.class).hasMessageContaining("tracked once");
    }

    @Test
    void aFailingExpiryDoesNotKeepTheOthersFromExpiring() {
        IoDeadlines d = new IoDeadlines(1);
        Io a = new Io();
        d.track(new IoDeadlines.Entry() {
            @Override
            void expire() {
                throw new IllegalStateException("boom");
            }
        });
        d.track(a);
        assertThatThrownBy(() -> d.sweep(System.nanoTime() + 1_000)).hasMessage("boom");
        assertThat(a.expired).hasValue(1);
        assertThat(d.isEmpty()).isTrue();
    }

    /**
     * Four threads track I/Os; half are finished by another thread, a quarter by their own, a quarter never, while a
     * sweeper expires everything due (a deadline of 0: everything tracked is due). Each I/O ends exactly one way:
     * finished ones expire only if the sweep took them first, and the never-finished ones all expire, once.
     */
    @Test
    void underConcurrentTrackingFinishingAndSweepingEachIoExpiresAtMostOnceAndTheUnfinishedAlways() throws Exception {
        IoDeadlines d = new IoDeadlines(1);
        int perThread = 50_000;
        ConcurrentLinkedQueue<Io> handOff = new ConcurrentLinkedQueue<>();
        List<Io> neverFinished = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Io> all = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean producing = new AtomicBoolean(true);
        CountDownLatch done = new CountDownLatch(4);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            threads.add(started(() -> {
                for (int i = 0; i < perThread; i++) {
                    Io io = new Io();
                    all.add(io);
                    d.track(io);
                    switch (i & 3) {
                        case 0, 1 -> handOff.add(io);
                        case 2 -> d.untrack(io);
                        default -> neverFinished.add(io);
                    }
                }
                done.countDown();
            }));
        }
        Thread finisher = started(() -> {
            while (producing.get() || !handOff.isEmpty()) {
                Io io = handOff.poll();
                if (io != null) {
                    d.untrack(io);
                }
            }
        });
        Thread sweeper = started(() -> {
            while (producing.get()) {
                d.sweep(System.nanoTime() + 1_000);
            }
        });
        assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
        producing.set(false);
        finisher.join(60_000);
        sweeper.join(60_000);
        d.sweep(System.nanoTime() + 1_000);
        assertThat(d.isEmpty()).isTrue();
        assertThat(all).hasSize(4 * perThread);
        assertThat(all).allSatisfy(io -> assertThat(io.expired.get()).isBetween(0, 1));
        assertThat(neverFinished).allSatisfy(io -> assertThat(io.expired).hasValue(1));
    }
}
