package io.javastor.ioengine.pool;

import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.replica.Replica;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * A deterministic stream of replica create/destroy/resize, snapshots, clones and snapshot deletions, writes and
 * flushes against a pool, reporting
 * each step as BEGIN / ACK / FAIL events (see {@link StreamModel}). Used by the in-process power-cut
 * test and by the process that the kill -9 test kills.
 */
public final class CrashStream {
    public static final int BLOCK = 4096;
    public static final int SECTOR = 512;

    public record Shape(long minReplica, long maxReplica, int maxReplicas) {
    }

    private CrashStream() {
    }

    /** Runs {@code ops} steps; stops early (returns false) at the first failure other than a refused request. */
    public static boolean run(Pool pool, long seed, int ops, Shape shape, Consumer<String> events) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<UUID> live = new ArrayList<>();
        List<UUID> snaps = new ArrayList<>();
        ByteBuffer buf = DmaBuffers.allocate(BLOCK);
        long seq = seed << 20; // unique per stream, never 0
        for (int i = 0; i < ops; i++) {
            int pick = rnd.nextInt(100);
            try {
                if (live.isEmpty() || (pick < 22 && live.size() < shape.maxReplicas())) {
                    UUID id = new UUID(rnd.nextLong(), rnd.nextLong());
                    long size = (shape.minReplica() + rnd.nextLong(shape.maxReplica() - shape.minReplica() + 1)) / BLOCK * BLOCK;
                    boolean thin = rnd.nextInt(3) != 0;
                    events.accept("BEGIN CREATE " + id + " " + size + " " + thin);
                    try {
                        pool.createReplica(id, id.toString(), size, thin);
                    } catch (EngineException e) {
                        if (e.kind() == EngineException.Kind.RESOURCE_EXHAUSTED) {
                            events.accept("FAIL CREATE " + id);
                            continue;
                        }
                        throw e;
                    }
                    live.add(id);
                    events.accept("ACK CREATE " + id);
                } else if (pick < 32) {
                    UUID id = live.remove(rnd.nextInt(live.size()));
                    events.accept("BEGIN DESTROY " + id);
                    pool.destroyReplica(id);
                    events.accept("ACK DESTROY " + id);
                } else if (pick < 40) {
                    UUID id = live.get(rnd.nextInt(live.size()));
                    Replica r = pool.replica(id);
                    long size = r.size() + (1 + rnd.nextInt(4)) * (long) BLOCK * 64;
                    events.accept("BEGIN RESIZE " + id + " " + r.size() + " " + size);
                    try {
                        pool.resizeReplica(id, size);
                    } catch (EngineException e) {
                        if (e.kind() == EngineException.Kind.RESOURCE_EXHAUSTED) {
                            events.accept("FAIL RESIZE " + id);
                            continue;
                        }
                        throw e;
                    }
                    events.accept("ACK RESIZE " + id);
                } else if (pick < 46) {
                    UUID id = live.get(rnd.nextInt(live.size()));
                    UUID snap = new UUID(rnd.nextLong(), rnd.nextLong());
                    events.accept("BEGIN SNAPSHOT " + id + " " + snap);
                    try {
                        pool.createSnapshot(id, snap, "s-" + i, i);
                    } catch (EngineException e) {
                        if (e.kind() == EngineException.Kind.RESOURCE_EXHAUSTED) {
                            events.accept("FAIL SNAPSHOT " + id + " " + snap);
                            continue;
                        }
                        throw e;
                    }
                    snaps.add(snap);
                    events.accept("ACK SNAPSHOT " + id + " " + snap);
                } else if (pick < 52 && !snaps.isEmpty() && live.size() < shape.maxReplicas()) {
                    UUID snap = snaps.get(rnd.nextInt(snaps.size()));
                    UUID clone = new UUID(rnd.nextLong(), rnd.nextLong());
                    events.accept("BEGIN CLONE " + snap + " " + clone);
                    try {
                        pool.createClone(snap, clone, "c-" + i);
                    } catch (EngineException e) {
                        if (e.kind() == EngineException.Kind.RESOURCE_EXHAUSTED) {
                            events.accept("FAIL CLONE " + snap + " " + clone);
                            continue;
                        }
                        throw e;
                    }
                    live.add(clone);
                    events.accept("ACK CLONE " + snap + " " + clone);
                } else if (pick < 56 && !snaps.isEmpty()) {
                    UUID snap = snaps.remove(rnd.nextInt(snaps.size()));
                    events.accept("BEGIN DESTROYSNAP " + snap);
                    pool.destroySnapshot(snap);
                    events.accept("ACK DESTROYSNAP " + snap);
                } else if (pick < 88) {
                    UUID id = live.get(rnd.nextInt(live.size()));
                    Replica r = pool.replica(id);
                    long block = rnd.nextLong(r.size() / BLOCK);
                    seq++;
                    fill(buf, seq, block);
                    events.accept("BEGIN WRITE " + id + " " + block + " " + seq);
                    try {
                        r.write(block * BLOCK, buf.duplicate().clear()).join();
                    } catch (RuntimeException e) {
                        BlockIoException io = BlockIoException.unwrap(e);
                        if (io != null && io.errno() == BlockIoException.ENOSPC) {
                            events.accept("FAIL WRITE " + id + " " + block + " " + seq);
                            continue;
                        }
                        throw e;
                    }
                    events.accept("ACK WRITE " + id + " " + block + " " + seq);
                } else {
                    UUID id = live.get(rnd.nextInt(live.size()));
                    events.accept("BEGIN FLUSH " + id);
                    pool.replica(id).flush().join();
                    events.accept("ACK FLUSH " + id);
                }
            } catch (RuntimeException e) {
                events.accept("STOP " + e.getClass().getSimpleName());
                return false;
            }
        }
        return true;
    }

    /** Every 512-byte sector names its write (seq) and place, so a torn block is told apart sector by sector. */
    public static void fill(ByteBuffer buf, long seq, long block) {
        for (int s = 0; s < BLOCK / SECTOR; s++) {
            int base = s * SECTOR;
            buf.putLong(base, seq);
            buf.putLong(base + 8, block * (BLOCK / SECTOR) + s);
            for (int j = 16; j < SECTOR; j += 8) {
                buf.putLong(base + j, seq * 0x9E3779B97F4A7C15L + j * 31L + s);
            }
        }
    }

    /** True when {@code sector} is exactly the bytes write {@code seq} put at {@code block}, sector {@code s}. */
    public static boolean sectorMatches(ByteBuffer sector, long seq, long block, int s) {
        if (sector.getLong(0) != seq || sector.getLong(8) != block * (BLOCK / SECTOR) + s) {
            return false;
        }
        for (int j = 16; j < SECTOR; j += 8) {
            if (sector.getLong(j) != seq * 0x9E3779B97F4A7C15L + j * 31L + s) {
                return false;
            }
        }
        return true;
    }
}
