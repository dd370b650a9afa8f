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
        final boolean thin;
        final Set<Long> sizes = new HashSet<>();
        boolean acked;
        boolean maybeGone;
        /** block -> durable seq (0 = zeroes) */
        final Map<Long, Long> durable = new HashMap<>();
        /** block -> writes issued since the last flush (may or may not be on the media) */
        final Map<Long, List<Long>> later = new HashMap<>();

        ReplicaModel(UUID id, long size, boolean thin) {
            this.id = id;
            this.thin = thin;
            sizes.add(size);
        }
    }

    private final Map<UUID, ReplicaModel> replicas = new HashMap<>();
    private final Set<UUID> mustBeGone = new HashSet<>();
    private final Set<UUID> mayExist = new LinkedHashSet<>();
    private int acks;

    public int acks() {
        return acks;
    }

    public void apply(String event) {
        String[] f = event.split(" ");
        if (f[0].equals("STOP")) {
            return;
        }
        UUID id = UUID.fromString(f[2]);
        String key = f[0] + " " + f[1];
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
            case "ACK WRITE", "BEGIN FLUSH" -> {
            }
            default -> throw new IllegalArgumentException("unknown event " + event);
        }
    }

    /** Checks an imported pool; returns the problems found (empty = consistent). */
    public List<String> verify(Pool pool) {
        List<String> problems = new ArrayList<>();
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
            if (r.thin() != m.thin) {
                problems.add("replica " + m.id + " thin=" + r.thin() + ", expected " + m.thin);
            }
            if (problems.size() > 20) {
                break;
            }
            checkData(m, r, problems);
        }
        return problems;
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
