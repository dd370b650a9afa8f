package io.javastor.ioengine.device;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The striped in-flight count the replicas, the nexus's children and the write gates drain on: I/Os counted in on
 * some threads and out on others (as a reactor completes what event loops submitted) never let a drain check read 0
 * while one is still in flight.
 */
class InFlightCountTest {

    @Test
    void countsInAndOutOnTheStripeItBeganOn() throws Exception {
        InFlightCount count = new InFlightCount();
        int a = count.begin();
        int b = count.begin();
        assertThat(count.sum()).isEqualTo(2);
        // Ended on another thread, as a completion is: the stripe it was counted in on is the one it leaves.
        CompletableFuture.runAsync(() -> count.end(a)).get(10, TimeUnit.SECONDS);
        assertThat(count.sum()).isEqualTo(1);
        assertThat(count.lowestStripe()).as("no stripe below zero after an end on another thread").isGreaterThanOrEqualTo(0);
        count.end(b);
        assertThat(count.sum()).isZero();
    }

    @Test
    void everyStripeIsSummed() throws Exception {
        InFlightCount count = new InFlightCount();
        int threads = 64; // more than the most stripes (16): every stripe has an I/O of some thread
        CountDownLatch begun = new CountDownLatch(threads);
        CountDownLatch release = new CountDownLatch(1);
        List<Thread> all = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                int stripe = count.begin();
                begun.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    count.end(stripe);
                }
            });
            all.add(t);
            t.start();
        }
        assertThat(begun.await(60, TimeUnit.SECONDS)).isTrue();
        assertThat(count.sum()).as("one I/O in flight per thread").isEqualTo(threads);
        release.countDown();
        for (Thread t : all) {
            t.join(TimeUnit.SECONDS.toMillis(60));
        }
        assertThat(count.sum()).isZero();
    }

    @Test
    void aSumNeverReadsZeroWhileAnIoThatWasInFlightThroughoutStillIs() throws Exception {
        InFlightCount count = new InFlightCount();
        int pinned = count.begin(); // in flight for the whole run
        int submitters = 4;
        int perSubmitter = 100_000;
        BlockingQueue<Integer> toComplete = new ArrayBlockingQueue<>(1024);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong sums = new AtomicLong();
        AtomicLong lowest = new AtomicLong(Long.MAX_VALUE);
        AtomicLong lowestStripe = new AtomicLong(Long.MAX_VALUE);
        List<Thread> threads = new ArrayList<>();
        CountDownLatch submitted = new CountDownLatch(submitters);
        CountDownLatch checking = new CountDownLatch(1); // the submitters start once the checker reads
        for (int s = 0; s < submitters; s++) {
            threads.add(new Thread(() -> {
                try {
                    checking.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < perSubmitter; i++) {
                    int stripe = count.begin();
                    if ((i & 1) == 0) {
                        count.end(stripe); // completed inline, as a RAM disk does
                    } else {
                        putUninterruptibly(toComplete, stripe); // completed by the "reactor"
                    }
                }
                submitted.countDown();
            }));
        }
        Thread reactor = new Thread(() -> {
            while (!stop.get() || !toComplete.isEmpty()) {
                try {
                    Integer stripe = toComplete.poll(1, TimeUnit.MILLISECONDS);
                    if (stripe != null) {
                        count.end(stripe);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        });
        Thread checker = new Thread(() -> {
            do {
                boolean submitting = submitted.getCount() > 0;
                long n = count.sum();
                if (submitting) {
                    sums.incrementAndGet();
                }
                lowest.accumulateAndGet(n, Math::min);
                lowestStripe.accumulateAndGet(count.lowestStripe(), Math::min);
                checking.countDown();
            } while (!stop.get());
        });
        threads.add(reactor);
        threads.add(checker);
        threads.forEach(Thread::start);
        try {
            assertThat(submitted.await(120, TimeUnit.SECONDS)).as("submitters finished").isTrue();
            await().atMost(Duration.ofSeconds(60)).until(toComplete::isEmpty);
        } finally {
            stop.set(true);
        }
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(60));
            assertThat(t.isAlive()).as(t.getName() + " ended").isFalse();
        }
        System.out.printf("InFlightCount: %d sums read beside %d I/Os, lowest %d, lowest stripe %d%n", sums.get(),
                submitters * perSubmitter, lowest.get(), lowestStripe.get());
        assertThat(sums.get()).as("sums read while the submitters ran").isPositive();
        assertThat(lowest.get()).as("the lowest sum read while one I/O stayed in flight").isGreaterThanOrEqualTo(1);
        // Half the I/Os end on the reactor's thread: counted out where they were counted in, no stripe goes below zero.
        assertThat(lowestStripe.get()).as("the lowest stripe seen").isGreaterThanOrEqualTo(0);
        assertThat(count.sum()).isEqualTo(1);
        count.end(pinned);
        assertThat(count.sum()).isZero();
    }

    @Test
    void aPauseCompletesOnlyOnceEveryAdmittedWriteIsDoneWhicheverThreadEndsIt() throws Exception {
        WriteGate gate = new WriteGate();
        int first = gate.admit();
        int second = gate.admit();
        assertThat(first).isNotEqualTo(WriteGate.HELD);
        CompletableFuture<Void> drained = gate.pause();
        assertThat(gate.admit()).as("a write during the pause").isEqualTo(WriteGate.HELD);
        CompletableFuture<Void> open = gate.whenOpen();
        assertThat(open).isNotDone();
        CompletableFuture.runAsync(() -> gate.done(first)).get(10, TimeUnit.SECONDS);
        assertThat(drained).as("one admitted write still in flight").isNotDone();
        CompletableFuture.runAsync(() -> gate.done(second)).get(10, TimeUnit.SECONDS);
        assertThat(drained).as("every admitted write done").isDone();
        gate.resume();
        assertThat(open).isDone();
        assertThat(gate.whenOpen()).isDone();
        int after = gate.admit();
        assertThat(after).isNotEqualTo(WriteGate.HELD);
        gate.done(after);
        assertThat(gate.pause()).as("a pause with nothing in flight").isDone();
    }

    @Test
    void aPauseUnderConcurrentWritesCompletesOnlyWhenNoAdmittedWriteIsRunning() throws Exception {
        WriteGate gate = new WriteGate();
        AtomicLong running = new AtomicLong(); // admitted and not yet done, counted by the writers themselves
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong writes = new AtomicLong();
        AtomicLong held = new AtomicLong(); // admissions a pause held back
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            Thread t = new Thread(() -> {
                while (!stop.get()) {
                    int ticket = gate.admit();
                    if (ticket == WriteGate.HELD) {
                        held.incrementAndGet();
                        gate.whenOpen().join();
                        continue;
                    }
                    running.incrementAndGet();
                    writes.incrementAndGet();
                    running.decrementAndGet();
                    gate.done(ticket);
                }
            });
            writers.add(t);
            t.start();
        }
        // The pauses start once the writers run, and go on until they have let a thousand writes through and held back
        // a hundred admissions: a loaded machine can otherwise keep the writers off the CPU for all 2,000 (quick) pauses.
        int pauses = 0;
        long runningAtDrain = 0;
        long writesBetween;
        try {
            await("the writers write").atMost(Duration.ofSeconds(60)).until(() -> writes.get() > 0);
            long writesBefore = writes.get();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while ((pauses < 2_000 || writes.get() - writesBefore < 1_000 || held.get() < 100) && System.nanoTime() < deadline) {
                gate.pause().get(30, TimeUnit.SECONDS);
                runningAtDrain = Math.max(runningAtDrain, running.get());
                gate.resume();
                pauses++;
            }
            writesBetween = writes.get() - writesBefore;
        } finally {
            stop.set(true);
            gate.resume(); // a writer held by a pause the loop left open
        }
        for (Thread t : writers) {
            t.join(TimeUnit.SECONDS.toMillis(60));
            assertThat(t.isAlive()).as(t.getName() + " ended").isFalse();
        }
        System.out.printf("WriteGate: %d pauses beside %d writes, %d admissions held%n", pauses, writes.get(), held.get());
        assertThat(writesBetween).as("writes went on between the pauses").isGreaterThanOrEqualTo(1_000);
        assertThat(held.get()).as("admissions the pauses held back").isGreaterThanOrEqualTo(100);
        assertThat(runningAtDrain).as("admitted writes still running when a pause had drained").isZero();
    }

    private static void putUninterruptibly(BlockingQueue<Integer> q, int v) {
        try {
            q.put(v);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
