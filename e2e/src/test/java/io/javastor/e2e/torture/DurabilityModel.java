package io.javastor.e2e.torture;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The checker's model of what each block may hold after a crash (NVMe's durability model, end to end).
 *
 * <p>Per block it keeps every version ever sent (acknowledged, failed or still in flight: any of them may have
 * reached the replicas) and the last durable one: a FUA write that completed, or a write that completed before a
 * Flush started and that Flush completed. After any crash a block must read its last durable version or a later one
 * it was sent; a block with no durable version may also read zeroes. Anything else is counted: an older version or
 * zeroes where a durable version exists is an acknowledged write lost; a checksum mismatch, a torn mix of versions,
 * another block's data or a version never sent to this block is corruption.
 *
 * <p>Sequence numbers grow with time and the workload never has two writes of one block in flight, so for one block
 * "later" is "larger sequence number". Thread-safe (the completions arrive on the host's threads).
 */
final class DurabilityModel {
    private final Map<Long, Set<Long>> versions = new HashMap<>();
    private final Map<Long, Long> durable = new HashMap<>();
    /** Completed, not yet covered by a flush: block -> (seq, completion tick). */
    private final List<long[]> completedUnflushed = new ArrayList<>();
    private long nextSeq = 1;
    private long tick;

    /** A write of the block at {@code offset} is about to be sent: its sequence number. */
    synchronized long sent(long offset) {
        long seq = nextSeq++;
        versions.computeIfAbsent(offset, k -> new HashSet<>()).add(seq);
        return seq;
    }

    /** The write of {@code seq} at {@code offset} completed successfully. */
    synchronized void completed(long offset, long seq, boolean fua) {
        if (fua) {
            makeDurable(offset, seq);
        } else {
            completedUnflushed.add(new long[] {offset, seq, tick++});
        }
    }

    /** A flush is about to be sent: what it covers (every write completed before now). */
    synchronized long flushSent() {
        return tick++;
    }

    /** The flush sent at {@code mark} completed successfully. */
    synchronized void flushCompleted(long mark) {
        for (Iterator<long[]> it = completedUnflushed.iterator(); it.hasNext(); ) {
            long[] w = it.next();
            if (w[2] < mark) {
                makeDurable(w[0], w[1]);
                it.remove();
            }
        }
    }

    private void makeDurable(long offset, long seq) {
        durable.merge(offset, seq, Math::max);
    }

    synchronized long durableSeq(long offset) {
        return durable.getOrDefault(offset, 0L);
    }

    synchronized int durableBlocks() {
        return durable.size();
    }

    /** The verdict on what a block read back: null when the model allows it. */
    synchronized Problem check(long offset, BlockStamp.Seen seen) {
        long d = durable.getOrDefault(offset, 0L);
        Set<Long> sent = versions.getOrDefault(offset, Set.of());
        return switch (seen.kind()) {
            case ZERO -> d == 0 ? null : new Problem(Problem.Kind.LOST, offset, seen, d, sent.size());
            case CORRUPT -> new Problem(Problem.Kind.CORRUPT, offset, seen, d, sent.size());
            case VERSION -> !sent.contains(seen.seq()) ? new Problem(Problem.Kind.CORRUPT, offset, seen, d, sent.size())
                    : seen.seq() < d ? new Problem(Problem.Kind.LOST, offset, seen, d, sent.size()) : null;
        };
    }

    /** A block the model does not allow. */
    record Problem(Kind kind, long offset, BlockStamp.Seen seen, long durableSeq, int versionsSent) {
        enum Kind { LOST, CORRUPT }

        @Override
        public String toString() {
            return (kind == Kind.LOST ? "ACKNOWLEDGED WRITE LOST" : "CORRUPT") + " at offset " + offset + ": read " + seen
                    + "; last durable seq " + (durableSeq == 0 ? "none" : durableSeq) + ", " + versionsSent + " version(s) sent"
                    + (kind == Kind.CORRUPT && seen.kind() == BlockStamp.Seen.Kind.VERSION ? " (seq " + seen.seq() + " never sent here)" : "");
        }
    }
}
