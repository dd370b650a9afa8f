package io.javastor.core.leader;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.support.CloseableClient;
import io.etcd.jetcd.watch.WatchEvent;
import io.grpc.stub.StreamObserver;
import io.javastor.core.operation.CoreException;
import io.javastor.core.store.WriteFence;

/**
 * Leader election over an etcd lease: the leader key {@code /javastor/<cluster>/leader} holds the
 * leader's agent id and is attached to its lease. Whoever creates the key leads until its lease
 * expires (it died or lost etcd) or it resigns. Others watch the key and campaign when it goes, and
 * also on a short tick, in case a watch event is missed.
 *
 * <p>The "term" is the key's create revision: it identifies one reign, and the write fence compares
 * it so that a deposed leader's spec writes fail in etcd itself.
 */
public final class LeaderElection implements WriteFence, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LeaderElection.class);

    private final Client client;
    private final ByteSequence key;
    private final String agentId;
    private final Duration ttl;
    private final LeadershipListener listener;
    private final ScheduledExecutorService executor;
    private final long callTimeoutMillis;

    private volatile long leaseId;
    private volatile long term; // 0 while not leading
    /**
     * {@link System#nanoTime} until which etcd cannot have expired the lease: a renewal's send time plus the TTL etcd
     * answered (etcd counts it from when it handled the renewal, later), less a margin for the two clocks' rates.
     * At or before now while not leading.
     */
    private volatile long leaseHeldUntil = System.nanoTime();
    private CloseableClient keepAlive;
    private Watch.Watcher watcher;
    private volatile boolean closed;

    /** The leader key of a cluster: it holds the leader's agent id, attached to the leader's lease. */
    public static ByteSequence keyOf(String cluster) {
        return ByteSequence.from("/javastor/" + cluster + "/leader", UTF_8);
    }

    public LeaderElection(Client client, String cluster, String agentId, Duration ttl, LeadershipListener listener) {
        if (ttl.toSeconds() < 1) {
            throw new IllegalArgumentException("leader ttl must be at least 1s: " + ttl);
        }
        this.client = client;
        this.key = keyOf(cluster);
        this.agentId = agentId;
        this.ttl = ttl;
        this.listener = listener;
        this.callTimeoutMillis = Math.max(1000, ttl.toMillis() / 2);
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "leader-election-" + agentId);
            t.setDaemon(true);
            return t;
        });
    }

    public void start() {
        long tick = Math.max(100, Math.min(500, ttl.toMillis() / 4));
        executor.scheduleWithFixedDelay(this::tick, 0, tick, TimeUnit.MILLISECONDS);
        watcher = client.getWatchClient().watch(key, WatchOption.DEFAULT, response -> {
            for (WatchEvent event : response.getEvents()) {
                if (event.getEventType() == WatchEvent.EventType.DELETE) {
                    submit(this::tick);
                }
            }
        });
    }

    public boolean isLeader() {
        return term != 0;
    }

    public String agentId() {
        return agentId;
    }

    /** The current leader's agent id, as etcd says. */
    public Optional<String> leader() {
        List<KeyValue> kvs = await(client.getKVClient().get(key, GetOption.DEFAULT), "read leader").getKvs();
        return kvs.isEmpty() ? Optional.empty() : Optional.of(kvs.get(0).getValue().toString(UTF_8));
    }

    /**
     * The term while this agent leads and its lease cannot have run out: every other agent's spec writes are fenced on
     * a leader key that cannot exist before this one's lease expires, so since the term only this agent writes specs.
     * It assumes what etcd's lease promises (in an etcd of several members a leader change can still revoke a lease
     * early, etcd issue 15247, rarer since 3.5.11; a read could then miss another agent's writes for the rest of the
     * held time, a few seconds: {@code javastor.core.leader.lease-reads=false} where that matters), a monotonic clock
     * that runs while etcd's does (a suspended VM's does not), and that only expiry or this agent's own resignation
     * removes its key. The next tick (a quarter TTL, at most 500 ms) sees a key deleted by hand or a lease lost while
     * suspended.
     */
    @Override
    public OptionalLong soleWriterSince() {
        long t = term;
        if (t == 0 || System.nanoTime() - leaseHeldUntil >= 0) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(t);
    }

    @Override
    public Optional<Cmp> condition() {
        long t = term;
        if (t == 0) {
            throw new CoreException.Unavailable("agent " + agentId + " is not the leader");
        }
        return Optional.of(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(t)));
    }

    private void tick() {
        if (closed) {
            return;
        }
        try {
            if (leaseId == 0) {
                grantLease();
            }
            if (term == 0) {
                campaign();
            } else {
                verify();
            }
            if (term != 0) {
                renewTimed();
            }
        } catch (RuntimeException e) {
            // etcd unreachable: a leader that cannot renew must step down before its lease runs out elsewhere.
            log.warn("leader election tick failed agent={}: {}", agentId, e.getMessage());
            stepDown("etcd error: " + e.getMessage());
        }
    }

    private void grantLease() {
        leaseId = await(client.getLeaseClient().grant(ttl.toSeconds()), "grant lease").getID();
        long id = leaseId;
        keepAlive = client.getLeaseClient().keepAlive(id, new StreamObserver<>() {
            @Override
            public void onNext(LeaseKeepAliveResponse value) {
                // renewed
            }

            @Override
            public void onError(Throwable t) {
                submit(() -> leaseLost(id, "keep-alive failed: " + t.getMessage()));
            }

            @Override
            public void onCompleted() {
                submit(() -> leaseLost(id, "lease expired"));
            }
        });
    }

    private void leaseLost(long id, String why) {
        if (leaseId != id) {
            return;
        }
        log.warn("leader lease lost agent={} lease={}: {}", agentId, id, why);
        stepDown(why);
    }

    private void campaign() {
        TxnResponse r = await(client.getKVClient().txn()
                .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0)))
                .Then(Op.put(key, ByteSequence.from(agentId, UTF_8), PutOption.builder().withLeaseId(leaseId).build()))
                .commit(), "campaign");
        if (r.isSucceeded()) {
            term = r.getHeader().getRevision();
            log.info("elected leader agent={} term={} ttl={}", agentId, term, ttl);
            listener.elected(term);
        }
    }

    /**
     * One renewal whose send time is known (the keep-alive stream's are not), so {@link #soleWriterSince} can say how
     * long the lease surely lasts: from the send, which comes before etcd restarts the TTL.
     */
    private void renewTimed() {
        long sentAt = System.nanoTime();
        LeaseKeepAliveResponse r;
        try {
            r = await(client.getLeaseClient().keepAliveOnce(leaseId), "renew lease");
        } catch (CoreException.Unavailable e) {
            // Not a reason to resign (etcd refuses it at once while electing its own leader): reads confirm with etcd
            // once the last timed renewal runs out; the keep-alive stream and verify() notice a lease really lost.
            log.debug("timed lease renewal failed agent={}: {}", agentId, e.getMessage());
            return;
        }
        // A TTL of 0 (the lease gone; jetcd reports that as an error, above) makes this a time already past.
        long ttlNanos = TimeUnit.SECONDS.toNanos(r.getTTL());
        leaseHeldUntil = sentAt + ttlNanos - Math.max(ttlNanos / 5, TimeUnit.MILLISECONDS.toNanos(500));
    }

    private void verify() {
        List<KeyValue> kvs = await(client.getKVClient().get(key, GetOption.DEFAULT), "verify leadership").getKvs();
        if (kvs.isEmpty() || kvs.get(0).getCreateRevision() != term) {
            stepDown("leader key gone or taken over");
        }
    }

    private void stepDown(String why) {
        long t = term;
        if (keepAlive != null) {
            keepAlive.close();
            keepAlive = null;
        }
        leaseId = 0;
        leaseHeldUntil = System.nanoTime(); // before the term goes: a reader that sees the next term sees this, or later
        if (t != 0) {
            term = 0;
            log.warn("no longer leader agent={} term={}: {}", agentId, t, why);
            listener.revoked(t);
        }
    }

    /** Orderly shutdown: resigns (revokes the lease) so another agent takes over at once. */
    /** Runs on the election thread; after close, late callbacks from etcd have nothing left to do. */
    private void submit(Runnable task) {
        synchronized (executor) {
            if (!executor.isShutdown()) {
                executor.execute(task);
            }
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        CompletableFuture<Void> done = new CompletableFuture<>();
        executor.execute(() -> {
            long lease = leaseId;
            stepDown("shutting down");
            if (lease != 0) {
                try {
                    await(client.getLeaseClient().revoke(lease), "revoke lease");
                } catch (CoreException.Unavailable e) {
                    log.warn("could not revoke lease on shutdown agent={}: {}", agentId, e.getMessage());
                }
            }
            done.complete(null);
        });
        try {
            done.get(callTimeoutMillis * 2, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("leader election shutdown incomplete agent={}: {}", agentId, e.toString());
        }
        if (watcher != null) {
            watcher.close();
        }
        synchronized (executor) {
            executor.shutdownNow();
        }
    }

    private <T> T await(CompletableFuture<T> future, String what) {
        try {
            return future.get(callTimeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CoreException.Unavailable("etcd: interrupted during " + what, e);
        } catch (ExecutionException | TimeoutException e) {
            future.cancel(true);
            throw new CoreException.Unavailable("etcd: cannot " + what + ": " + e.getMessage(), e);
        }
    }
}
