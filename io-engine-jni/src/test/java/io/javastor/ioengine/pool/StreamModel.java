package io.javastor.ioengine.pool;

import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.replica.Replica;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * What a crashed pool must still hold, built from a {@link CrashStream}'s events: every acknowledged
 * replica (with its acknowledged size) and, for every block, the last write a flush made durable,
 * or any write issued after it. Nothing else is allowed: not a lost replica, not a zombie, not stale data.
 */
public final class StreamModel {
    private static final class ReplicaModel {
        final UUID id;
        /** A snapshot makes a thick replica allocate on write (thin) from then on; either while one is being taken. */
        final Set<Boolean> thin = new HashSet<>();
        final Set<Long> sizes = new HashSet<>();
        boolean acked;
        boolean maybeGone;
        /** block -> durable seq (0 = zeroes) */
        final Map<Long, Long> durable = new HashMap<>();
        /** block -> writes issued since the last flush (may or may not be on the media) */
        final Map<Long, List<Long>> later = new HashMap<>();

        ReplicaModel(UUID id, long size, boolean thin) {
            this.id = id;
            this.thin.add(thin);
            sizes.add(size);
        }
    }

    /** A snapshot's image: block -> seq (absent: zeroes). Exact: every write before it was acknowledged, and it flushes. */
    private record SnapshotModel(UUID id, long size, Map<Long, Long> image, boolean[] state) {
        boolean acked() {
            return state[0];
        }

        boolean maybeGone() {
            return state[1];
        }
    }

    private final Map<UUID, ReplicaModel> replicas = new HashMap<>();
    private final Map<UUID, SnapshotModel> snapshots = new HashMap<>();
    private final Set<UUID> mustBeGone = new HashSet<>();
    private final Set<UUID> mayExist = new LinkedHashSet<>();
    private int acks;

    public int acks() {
        return acks;
    }

    private final Map<String, Integer> counts = new HashMap<>();

    /** How many events of a kind ("ACK SNAPSHOT", ...) the stream reported. */
    public int count(String kind) {
        return counts.getOrDefault(kind, 0);
    }

    public void apply(String event) {
        String[] f = event.split(" ");
        if (f[0].equals("STOP")) {
            return;
        }
        UUID id = UUID.fromString(f[2]);
        String key = f[0] + " " + f[1];
        counts.merge(key, 1, Integer::sum);
        if (f[0].equals("ACK")) {
            acks++;
        }
        switch (key) {
            case "BEGIN CREATE" -> {
                replicas.put(id, new ReplicaModel(id, Long.parseLong(f[3]), Boolean.parseBoolean(f[4])));
                mayExist.add(id);
            }
            case "ACK CREATE" -> {
                replicas.get(id).acked = true;
                mayExist.remove(id);
            }
            case "FAIL CREATE" -> {
                replicas.remove(id);
                mayExist.remove(id);
                mustBeGone.add(id);
            }
            case "BEGIN DESTROY" -> replicas.get(id).maybeGone = true;
            case "ACK DESTROY" -> {
                replicas.remove(id);
                mustBeGone.add(id);
            }
            case "BEGIN RESIZE" -> replicas.get(id).sizes.add(Long.parseLong(f[4]));
            case "ACK RESIZE" -> {
                ReplicaModel r = replicas.get(id);
                long max = r.sizes.stream().mapToLong(Long::longValue).max().orElseThrow();
                r.sizes.clear();
                r.sizes.add(max);
            }
            case "FAIL RESIZE" -> {
                ReplicaModel r = replicas.get(id);
                long min = r.sizes.stream().mapToLong(Long::longValue).min().orElseThrow();
                r.sizes.clear();
                r.sizes.add(min);
            }
            case "BEGIN WRITE" -> replicas.get(id).later.computeIfAbsent(Long.parseLong(f[3]), b -> new ArrayList<>()).add(Long.parseLong(f[4]));
            case "FAIL WRITE" -> replicas.get(id).later.get(Long.parseLong(f[3])).remove(Long.valueOf(f[4]));
            case "ACK FLUSH" -> {
                ReplicaModel r = replicas.get(id);
                r.later.forEach((block, seqs) -> {
                    if (!seqs.isEmpty()) {
                        r.durable.put(block, seqs.get(seqs.size() - 1));
                    }
                });
                r.later.clear();
            }
            case "BEGIN SNAPSHOT" -> {
                ReplicaModel r = replicas.get(id);
                r.thin.add(true);
                UUID snap = UUID.fromString(f[3]);
                snapshots.put(snap, new SnapshotModel(snap, r.sizes.stream().mapToLong(Long::longValue).max().orElseThrow(),
                        latest(r), new boolean[2]));
                mayExist.add(snap);
            }
            case "ACK SNAPSHOT" -> {
                UUID snap = UUID.fromString(f[3]);
                snapshots.get(snap).state()[0] = true;
                mayExist.remove(snap);
                replicas.get(id).thin.retainAll(Set.of(true));
                apply("ACK FLUSH " + id); // its commit flushed the device first: the replica's writes are durable too
            }
            case "FAIL SNAPSHOT" -> {
                UUID snap = UUID.fromString(f[3]);
                snapshots.remove(snap);
                mayExist.remove(snap);
                mustBeGone.add(snap);
                replicas.get(id).thin.retainAll(Set.of(false)); // refused before any change
                if (replicas.get(id).thin.isEmpty()) {
                    replicas.get(id).thin.add(true); // it was already thin
                }
            }
            case "BEGIN CLONE" -> {
                SnapshotModel s = snapshots.get(id);
                UUID clone = UUID.fromString(f[3]);
                ReplicaModel c = new ReplicaModel(clone, s.size(), true);
                c.durable.putAll(s.image());
                replicas.put(clone, c);
                mayExist.add(clone);
            }
            case "ACK CLONE" -> {
                UUID clone = UUID.fromString(f[3]);
                replicas.get(clone).acked = true;
                mayExist.remove(clone);
            }
            case "FAIL CLONE" -> {
                UUID clone = UUID.fromString(f[3]);
                replicas.remove(clone);
                mayExist.remove(clone);
                mustBeGone.add(clone);
            }
            case "BEGIN DESTROYSNAP" -> snapshots.get(id).state()[1] = true;
            case "ACK DESTROYSNAP" -> {
                snapshots.remove(id);
                mustBeGone.add(id);
            }
            case "ACK WRITE", "BEGIN FLUSH" -> {
            }
            default -> throw new IllegalArgumentException("unknown event " + event);
        }
    }

    /** What a replica holds now, as far as the stream knows: the last write to each block (all were answered). */
    private static Map<Long, Long> latest(ReplicaModel r) {
        Map<Long, Long> image = new HashMap<>(r.durable);
        r.later.forEach((block, seqs) -> {
            if (!seqs.isEmpty()) {
                image.put(block, seqs.get(seqs.size() - 1));
            }
        });
        return image;
    }

    /** Checks an imported pool; returns the problems found (empty = consistent). */
    public List<String> verify(Pool pool) {
        List<String> problems = new ArrayList<>();
        verifySnapshots(pool, problems);
        // A cluster could only leak through a deleted snapshot nobody reads any more: import collects those.
        for (Replica s : pool.allSlots()) {
            if (s.isSnapshot() && s.record().snapshot().discarded()) {
                SnapshotModel m = snapshots.get(s.uuid());
                if (!mustBeGone.contains(s.uuid()) && (m == null || !m.maybeGone())) {
                    problems.add("snapshot " + s.uuid() + " is marked deleted but was never deleted");
                }
                int readers = pool.readersOf(s.uuid()).size();
                if (readers < 2) {
                    problems.add("deleted snapshot " + s.uuid() + " is kept for " + readers + " readers: its clusters leak");
                }
            }
        }
        for (Replica r : pool.replicas()) {
            if (mustBeGone.contains(r.uuid())) {
                problems.add("replica " + r.uuid() + " was destroyed (or refused) but exists");
            } else if (!replicas.containsKey(r.uuid())) {
                problems.add("replica " + r.uuid() + " was never created but exists");
            }
        }
        for (ReplicaModel m : replicas.values()) {
            Replica r = pool.replica(m.id);
            if (r == null) {
                if (m.acked && !m.maybeGone) {
                    problems.add("acknowledged replica " + m.id + " is missing");
                }
                continue;
            }
            if (!m.sizes.contains(r.size())) {
                problems.add("replica " + m.id + " has size " + r.size() + ", expected one of " + m.sizes);
            }
            if (!m.thin.contains(r.thin())) {
                problems.add("replica " + m.id + " thin=" + r.thin() + ", expected " + m.thin);
            }
            if (problems.size() > 20) {
                break;
            }
            checkData(m, r, problems);
        }
        return problems;
    }

    private void verifySnapshots(Pool pool, List<String> problems) {
        for (Replica s : pool.snapshots()) {
            if (mustBeGone.contains(s.uuid())) {
                problems.add("snapshot " + s.uuid() + " was deleted (or refused) but exists");
            } else if (!snapshots.containsKey(s.uuid())) {
                problems.add("snapshot " + s.uuid() + " was never taken but exists");
            }
        }
        for (SnapshotModel m : snapshots.values()) {
            Replica s = pool.snapshot(m.id());
            if (s == null) {
                if (m.acked() && !m.maybeGone()) {
                    problems.add("acknowledged snapshot " + m.id() + " is missing");
                }
                continue;
            }
            if (s.size() != m.size()) {
                problems.add("snapshot " + m.id() + " has size " + s.size() + ", expected " + m.size());
                continue;
            }
            ReplicaModel exact = new ReplicaModel(m.id(), m.size(), false);
            exact.durable.putAll(m.image());
            checkData(exact, s, problems);
        }
    }

    private static void checkData(ReplicaModel m, Replica r, List<String> problems) {
        ByteBuffer buf = DmaBuffers.allocate(CrashStream.BLOCK).order(ByteOrder.LITTLE_ENDIAN);
        long blocks = r.size() / CrashStream.BLOCK;
        for (long b = 0; b < blocks; b++) {
            buf.clear();
            r.read(b * CrashStream.BLOCK, buf).join();
            long durable = m.durable.getOrDefault(b, 0L);
            List<Long> later = m.later.getOrDefault(b, List.of());
            for (int s = 0; s < CrashStream.BLOCK / CrashStream.SECTOR; s++) {
                ByteBuffer sector = buf.duplicate().position(s * CrashStream.SECTOR).limit((s + 1) * CrashStream.SECTOR).slice()
                        .order(ByteOrder.LITTLE_ENDIAN);
                long seq = sector.getLong(0);
                boolean ok;
                if (seq == 0 && isZero(sector)) {
                    ok = durable == 0;
                } else {
                    ok = (seq == durable || later.contains(seq)) && CrashStream.sectorMatches(sector, seq, b, s);
                }
                if (!ok) {
                    problems.add("replica " + m.id + " block " + b + " sector " + s + " holds seq " + seq
                            + (isZero(sector) ? " (zeroes)" : "") + "; durable " + durable + ", possible later " + later);
                    return;
                }
            }
        }
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
