package io.javastor.ioengine.pool;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.DmaBuffers;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static io.javastor.ioengine.pool.CrashStream.BLOCK;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random 4 KiB writes at queue depth 16 (at most one in flight per block), keeping every write's history with when it
 * was issued and answered, so a point-in-time image taken while they run (a snapshot) can be checked: each block must
 * hold the last write answered before the image was started, or one issued before it was done and not answered before
 * it started. Each block's sectors name their write ({@link CrashStream#fill}), so a torn or misplaced block shows.
 */
public final class WriteHistory {
    /** One write at a block: its seq, when it was issued and when it was answered (0: not yet). */
    public record Write(long seq, long issued, AtomicLong acked) {
    }

    private final int blocks;
    private final List<List<Write>> history = new ArrayList<>();
    private final Set<Integer> busy = ConcurrentHashMap.newKeySet();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicLong seq = new AtomicLong(1L << 40);
    private final SplittableRandom rnd = new SplittableRandom(42);
    /** Writes issued so far: lets another thread act in the middle of a run. */
    private final AtomicLong issuedCount = new AtomicLong();

    public WriteHistory(int blocks) {
        this.blocks = blocks;
        for (int b = 0; b < blocks; b++) {
            history.add(new ArrayList<>());
        }
    }

    /** Issues {@code writes} writes to {@code dev} and waits for all of them; fails on any write error. */
    public void run(BlockDevice dev, int writes) throws InterruptedException {
        run(dev, writes, () -> false);
    }

    /**
     * Issues at least {@code writes} writes to {@code dev}, and more for as long as {@code more} says so (so an action
     * another thread takes meanwhile surely runs beside writes, however fast the device), then waits for all of them;
     * fails on any write error.
     */
    public void run(BlockDevice dev, int writes, BooleanSupplier more) throws InterruptedException {
        Semaphore depth = new Semaphore(16);
        for (int i = 0; (i < writes || more.getAsBoolean()) && failure.get() == null; i++) {
            depth.acquire();
            int block;
            do {
                block = rnd.nextInt(blocks);
            } while (!busy.add(block));
            long s = seq.incrementAndGet();
            ByteBuffer buf = DmaBuffers.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
            CrashStream.fill(buf, s, block);
            issuedCount.incrementAndGet();
            Write w = new Write(s, System.nanoTime(), new AtomicLong());
            List<Write> h = history.get(block);
            synchronized (h) {
                h.add(w);
            }
            int b = block;
            dev.write((long) block * BLOCK, buf.clear()).whenComplete((v, t) -> {
                w.acked().set(System.nanoTime());
                if (t != null) {
                    failure.compareAndSet(null, t);
                }
                busy.remove(b);
                depth.release();
            });
        }
        depth.acquire(16);
        depth.release(16);
        assertThat(failure.get()).as("write errors").isNull();
    }

    /** How many writes were issued since the history began. */
    public long issuedCount() {
        return issuedCount.get();
    }

    /** All writes issued since the history began, in no particular order. */
    public List<Write> writes() {
        List<Write> all = new ArrayList<>();
        for (List<Write> h : history) {
            synchronized (h) {
                all.addAll(h);
            }
        }
        return all;
    }

    /** The image once every write was answered: the last write per block, 0 for none. */
    public long[] image() {
        long[] img = new long[blocks];
        for (int b = 0; b < blocks; b++) {
            List<Write> h = history.get(b);
            synchronized (h) {
                img[b] = h.isEmpty() ? 0 : h.get(h.size() - 1).seq();
            }
        }
        return img;
    }

    /**
     * What an image taken between {@code from} and {@code to} (nanoTime) may hold at each block: the last write answered
     * before {@code from} (0: none), or any write issued before {@code to} and not answered before {@code from}.
     */
    public List<Set<Long>> allowedBetween(long from, long to) {
        List<Set<Long>> allowed = new ArrayList<>();
        for (int b = 0; b < blocks; b++) {
            Set<Long> ok = new HashSet<>();
            long base = 0;
            List<Write> h = history.get(b);
            synchronized (h) {
                for (Write w : h) {
                    if (w.acked().get() != 0 && w.acked().get() < from) {
                        base = w.seq();
                    } else if (w.issued() < to) {
                        ok.add(w.seq());
                    }
                }
            }
            ok.add(base);
            allowed.add(ok);
        }
        return allowed;
    }

    /**
     * Reads the first {@code blocks} blocks of {@code dev}: the seq each holds (0: zeroes), each sector checked whole.
     * 4 KiB reads, {@value #READ_DEPTH} at a time (one at a time made the image checks most of these tests' time).
     */
    public static long[] read(BlockDevice dev, int blocks) {
        long[] img = new long[blocks];
        ByteBuffer[] bufs = new ByteBuffer[READ_DEPTH];
        for (int i = 0; i < READ_DEPTH; i++) {
            bufs[i] = DmaBuffers.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
        }
        List<CompletableFuture<?>> reads = new ArrayList<>(READ_DEPTH);
        for (int first = 0; first < blocks; first += READ_DEPTH) {
            int n = Math.min(READ_DEPTH, blocks - first);
            reads.clear();
            for (int i = 0; i < n; i++) {
                reads.add(dev.read((long) (first + i) * BLOCK, bufs[i].clear()));
            }
            CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).join();
            for (int i = 0; i < n; i++) {
                img[first + i] = check(dev, bufs[i], first + i);
            }
        }
        return img;
    }

    private static final int READ_DEPTH = 32;

    private static long check(BlockDevice dev, ByteBuffer buf, int b) {
        long s = buf.getLong(0);
        for (int sec = 0; sec < BLOCK / CrashStream.SECTOR; sec++) {
            ByteBuffer sector = buf.duplicate().position(sec * CrashStream.SECTOR).limit((sec + 1) * CrashStream.SECTOR).slice()
                    .order(ByteOrder.LITTLE_ENDIAN);
            boolean ok = s == 0 ? isZero(sector) : CrashStream.sectorMatches(sector, s, b, sec);
            assertThat(ok).as("%s block %d sector %d is whole write %d", dev.uri(), b, sec, s).isTrue();
        }
        return s;
    }

    /** Fails naming the first differing blocks when {@code dev} does not hold exactly {@code expected}. */
    public static void assertImage(BlockDevice dev, long[] expected, String what) {
        long[] actual = read(dev, expected.length);
        List<String> diffs = new ArrayList<>();
        for (int b = 0; b < expected.length && diffs.size() < 10; b++) {
            if (actual[b] != expected[b]) {
                diffs.add("block " + b + " holds " + actual[b] + ", expected " + expected[b]);
            }
        }
        assertThat(diffs).as(what).isEmpty();
    }

    private static boolean isZero(ByteBuffer b) {
        for (int i = 0; i < b.limit(); i += 8) {
            if (b.getLong(i) != 0) {
                return false;
            }
        }
        return true;
    }
}
