package io.javastor.ioengine.metrics;

import io.javastor.ioengine.pool.Pool;
import io.javastor.ioengine.pool.PoolRegistry;
import io.javastor.ioengine.replica.Replica;
import io.javastor.ioengine.device.IoStats;
import io.javastor.ioengine.device.IoStats.Kind;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Exports per-pool and per-replica I/O counters and latency (Prometheus via Micrometer). The hot path
 * only bumps {@link IoStats}; meters read them at scrape time. Meters follow the replicas that
 * exist, re-synced every few seconds.
 */
@Component
public class StorageMetrics {
    static final String[] KINDS = {"read", "write", "flush", "write_zeroes", "unmap"};

    private final MeterRegistry meters;
    private final PoolRegistry registry;
    private final Map<String, List<Meter>> bound = new HashMap<>();

    public StorageMetrics(MeterRegistry meters, PoolRegistry registry) {
        this.meters = meters;
        this.registry = registry;
        sync();
    }

    @Scheduled(fixedDelayString = "${javastor.io-engine.metrics-sync:5s}")
    public synchronized void sync() {
        Set<String> live = new HashSet<>();
        for (Pool p : registry.pools()) {
            String key = "pool:" + p.name() + ":" + p.uuid();
            live.add(key);
            bound.computeIfAbsent(key, k -> bindPool(p));
            for (Replica r : p.replicas()) {
                String rk = "replica:" + r.uuid();
                live.add(rk);
                bound.computeIfAbsent(rk, k -> bindReplica(r));
            }
        }
        bound.entrySet().removeIf(e -> {
            if (live.contains(e.getKey())) {
                return false;
            }
            e.getValue().forEach(meters::remove);
            return true;
        });
    }

    private List<Meter> bindPool(Pool p) {
        Tags tags = Tags.of("pool", p.name());
        List<Meter> out = new ArrayList<>();
        out.add(Gauge.builder("javastor_pool_capacity_bytes", p, Pool::capacityBytes).tags(tags).register(meters));
        out.add(Gauge.builder("javastor_pool_used_bytes", p, Pool::usedBytes).tags(tags).register(meters));
        out.add(Gauge.builder("javastor_pool_committed_bytes", p, Pool::committedBytes).tags(tags).register(meters));
        for (Kind k : Kind.values()) {
            Tags t = tags.and("op", KINDS[k.ordinal()]);
            out.add(FunctionCounter.builder("javastor_pool_io_ops", p, x -> sum(x, s -> s.ops(k))).tags(t).register(meters));
            out.add(FunctionCounter.builder("javastor_pool_io_bytes", p, x -> sum(x, s -> s.bytes(k))).tags(t).register(meters));
            out.add(FunctionCounter.builder("javastor_pool_io_errors", p, x -> sum(x, s -> s.errors(k))).tags(t).register(meters));
        }
        return out;
    }

    private static double sum(Pool p, java.util.function.ToLongFunction<IoStats> f) {
        long n = 0;
        for (Replica r : p.replicas()) {
            n += f.applyAsLong(r.stats());
        }
        return n;
    }

    private List<Meter> bindReplica(Replica r) {
        Tags tags = Tags.of("pool", r.pool().name(), "replica", r.uuid().toString());
        IoStats s = r.stats();
        List<Meter> out = new ArrayList<>();
        out.add(Gauge.builder("javastor_replica_allocated_bytes", r, Replica::allocatedBytes).tags(tags).register(meters));
        for (Kind k : Kind.values()) {
            String op = KINDS[k.ordinal()];
            Tags t = tags.and("op", op);
            out.add(FunctionCounter.builder("javastor_replica_io_bytes", s, x -> x.bytes(k)).tags(t).register(meters));
            out.add(FunctionCounter.builder("javastor_replica_io_errors", s, x -> x.errors(k)).tags(t).register(meters));
            // ops count and total latency: rate(sum)/rate(count) is the mean latency.
            out.add(FunctionTimer.builder("javastor_replica_io_latency", s, x -> x.completed(k), x -> x.totalNanos(k), TimeUnit.NANOSECONDS)
                    .tags(t).register(meters));
            if (k != Kind.READ && k != Kind.WRITE) {
                continue;
            }
            // Cumulative log2 buckets, Prometheus-histogram style: le in microseconds.
            for (int b = 0; b < IoStats.BUCKETS; b++) {
                int bucket = b;
                String le = b == IoStats.BUCKETS - 1 ? "+Inf" : String.format(Locale.ROOT, "%d", 1L << (b + 1));
                out.add(Gauge.builder("javastor_replica_io_latency_us_bucket", s, x -> cumulative(x.latencyBuckets(k), bucket))
                        .tags(t.and("le", le)).register(meters));
            }
        }
        return out;
    }

    private static double cumulative(long[] buckets, int upTo) {
        long n = 0;
        for (int i = 0; i <= upTo; i++) {
            n += buckets[i];
        }
        return n;
    }
}
