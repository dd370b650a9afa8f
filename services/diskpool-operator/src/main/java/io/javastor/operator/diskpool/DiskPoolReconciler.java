package io.javastor.operator.diskpool;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javastor.operator.control.Backoff;
import io.javastor.operator.control.KeyReconciler;
import io.javastor.operator.control.Outcome;
import io.javastor.operator.rest.PoolsApi;
import io.javastor.operator.rest.RestFailure;
import io.javastor.operator.rest.RestPool;

/**
 * One DiskPool: observe it (informer cache) and its pool (REST API), compare, take one step.
 * <ul>
 * <li>bad spec: status Error naming the field, nothing else;</li>
 * <li>no finalizer yet: add it (so the resource outlives the pool);</li>
 * <li>no pool: create it (the io-engine imports a pool already on the disk);</li>
 * <li>pool there: report its state and bytes, look again after {@code refresh};</li>
 * <li>being deleted: destroy the pool (a pool holding replicas is refused: status says so, retried), then drop the finalizer.</li>
 * </ul>
 * Failed REST calls are retried with exponential back-off; the status message says which attempt and when the next comes.
 */
public final class DiskPoolReconciler implements KeyReconciler {
    private static final Logger log = LoggerFactory.getLogger(DiskPoolReconciler.class);

    private final KubernetesClient client;
    private final Function<String, DiskPool> cache;
    private final PoolsApi pools;
    private final Backoff backoff;
    /** Read at each refresh: the interval is a live setting (reloaded from the ConfigMap in Kubernetes). */
    private final Supplier<Duration> refresh;
    private final PoolEvents events;

    public DiskPoolReconciler(KubernetesClient client, Function<String, DiskPool> cache, PoolsApi pools, Backoff backoff,
            Supplier<Duration> refresh, PoolEvents events) {
        this.client = client;
        this.cache = cache;
        this.pools = pools;
        this.backoff = backoff;
        this.refresh = refresh;
        this.events = events;
    }

    @Override
    public Outcome reconcile(String key, int failuresSoFar) {
        DiskPool dp = cache.apply(key);
        if (dp == null) {
            return Outcome.DONE; // gone from the API: nothing is held for it any more
        }
        if (dp.getMetadata().getDeletionTimestamp() != null) {
            return finalize(dp, failuresSoFar);
        }
        Long generation = dp.getMetadata().getGeneration();
        Optional<String> problem = SpecRules.problem(dp);
        if (problem.isPresent()) {
            refuse(dp, problem.get());
            return Outcome.DONE; // a new spec (generation) brings it back
        }
        DiskPoolSpec spec = dp.getSpec();
        String pool = dp.getMetadata().getName();
        if (!hasFinalizer(dp)) {
            // Before anything exists: from now on the resource outlives its pool. A pool that is there
            // already (created before the resource, or left by a lost one) becomes this resource's too.
            addFinalizer(dp);
            return Outcome.NEXT;
        }
        try {
            Optional<RestPool> existing = pools.find(pool);
            if (existing.isPresent()) {
                Optional<String> mismatch = SpecRules.mismatch(spec, existing.get());
                if (mismatch.isPresent()) {
                    refuse(dp, mismatch.get());
                    return Outcome.DONE;
                }
                writeStatus(dp, observed(existing.get(), generation));
                return new Outcome.RefreshAfter(refresh.get());
            }
            writeStatus(dp, current(dp).with("Creating", "creating pool " + pool + " on node " + spec.node() + " from " + spec.disks(),
                    generation));
            RestPool created = pools.create(spec.node(), pool, spec.disks());
            log.info("pool created or imported pool={} node={} disks={} capacity={}", pool, spec.node(), spec.disks(),
                    created.state() == null ? null : created.state().capacity());
            events.normal(dp, "PoolCreated", "pool " + pool + " created (or imported) on node " + spec.node() + " from " + spec.disks());
            writeStatus(dp, observed(created, generation));
            return new Outcome.RefreshAfter(refresh.get());
        } catch (RestFailure f) {
            return failed(dp, "Error", f, failuresSoFar);
        }
    }

    private Outcome finalize(DiskPool dp, int failuresSoFar) {
        if (!hasFinalizer(dp)) {
            return Outcome.DONE;
        }
        String pool = dp.getMetadata().getName();
        try {
            Optional<RestPool> existing = pools.find(pool);
            String node = dp.getSpec() == null ? null : dp.getSpec().node();
            if (existing.isPresent() && node != null && !node.equals(existing.get().node())) {
                // A pool of that name on another node was never this resource's (its spec was refused): leave it be.
                log.warn("pool not destroyed, it lives on another node pool={} node={} specNode={}", pool, existing.get().node(), node);
            } else if (existing.isPresent()) {
                node = existing.get().node() != null ? existing.get().node() : node;
                writeStatus(dp, current(dp).with("Terminating", "destroying pool " + pool + " on node " + node,
                        dp.getMetadata().getGeneration()));
                pools.destroy(node, pool);
                log.info("pool destroyed pool={} node={}", pool, node);
                events.normal(dp, "PoolDestroyed", "pool " + pool + " destroyed on node " + node);
            }
            removeFinalizer(dp);
            return Outcome.DONE;
        } catch (RestFailure f) {
            if (f.inUse()) {
                events.warning(dp, "PoolInUse", f.getMessage());
            }
            return failed(dp, "Terminating", f, failuresSoFar);
        }
    }

    private Outcome failed(DiskPool dp, String state, RestFailure f, int failuresSoFar) {
        int attempt = failuresSoFar + 1;
        Duration next = backoff.after(attempt);
        String why = f.inUse() ? "pool in use, kept until its replicas are gone: " + f.getMessage() : f.toString();
        log.warn("diskpool step failed diskpool={} attempt={} retryIn={} reason={}", key(dp), attempt, next, why);
        writeStatus(dp, current(dp).with(state, why + " (attempt " + attempt + ", retrying in " + seconds(next) + ")",
                dp.getMetadata().getGeneration()));
        return new Outcome.Retry(next);
    }

    private void refuse(DiskPool dp, String problem) {
        DiskPoolStatus wanted = current(dp).with("Error", problem, dp.getMetadata().getGeneration());
        if (!wanted.equals(dp.getStatus())) {
            log.warn("diskpool refused diskpool={} problem={}", key(dp), problem);
            events.warning(dp, "InvalidSpec", problem);
        }
        writeStatus(dp, wanted);
    }

    static DiskPoolStatus observed(RestPool p, Long generation) {
        RestPool.State s = p.state();
        if ("Creating".equals(p.specStatus())) {
            return new DiskPoolStatus("Creating", null, null, null, null, "pool " + p.id() + " is being created on node " + p.node(),
                    generation);
        }
        if (s == null) {
            return DiskPoolStatus.of("Created", "pool " + p.id() + " exists on node " + p.node() + "; no state reported yet", generation);
        }
        String state = switch (s.status()) {
            case "Online", "Degraded", "Faulted" -> s.status();
            default -> "Unknown";
        };
        String message = "Unknown".equals(state)
                ? "pool " + p.id() + ": node " + p.node() + " has not reported it (not reachable?)"
                : "pool " + p.id() + " " + state + " on node " + p.node();
        return new DiskPoolStatus(state, s.capacity(), s.used(), Math.max(0, s.capacity() - s.used()), s.committed(), message, generation);
    }

    private static DiskPoolStatus current(DiskPool dp) {
        return dp.getStatus() != null ? dp.getStatus() : DiskPoolStatus.of(null, null, null);
    }

    private void writeStatus(DiskPool dp, DiskPoolStatus status) {
        if (status.equals(dp.getStatus())) {
            return;
        }
        DiskPool patch = new DiskPool();
        patch.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(dp.getMetadata().getName())
                .withNamespace(dp.getMetadata().getNamespace()).build());
        patch.setStatus(status);
        // A merge patch of the status subresource: no resourceVersion, so a stale cache cannot make it conflict.
        client.resources(DiskPool.class).inNamespace(dp.getMetadata().getNamespace()).resource(patch).patchStatus();
        dp.setStatus(status); // the cache's copy, until the watch delivers the new one
    }

    private static boolean hasFinalizer(DiskPool dp) {
        List<String> f = dp.getMetadata().getFinalizers();
        return f != null && f.contains(DiskPool.FINALIZER);
    }

    private void addFinalizer(DiskPool dp) {
        List<String> have = dp.getMetadata().getFinalizers();
        String patch = have == null || have.isEmpty()
                ? "[{\"op\":\"add\",\"path\":\"/metadata/finalizers\",\"value\":[\"" + DiskPool.FINALIZER + "\"]}]"
                : "[{\"op\":\"add\",\"path\":\"/metadata/finalizers/-\",\"value\":\"" + DiskPool.FINALIZER + "\"}]";
        jsonPatch(dp, patch);
        List<String> now = new ArrayList<>(have == null ? List.of() : have);
        now.add(DiskPool.FINALIZER);
        dp.getMetadata().setFinalizers(now);
        log.info("finalizer added diskpool={}", key(dp));
    }

    private void removeFinalizer(DiskPool dp) {
        int i = dp.getMetadata().getFinalizers().indexOf(DiskPool.FINALIZER);
        // "test" first: the index must still hold our finalizer, or the patch fails and the next reconcile looks again.
        jsonPatch(dp, "[{\"op\":\"test\",\"path\":\"/metadata/finalizers/" + i + "\",\"value\":\"" + DiskPool.FINALIZER + "\"},"
                + "{\"op\":\"remove\",\"path\":\"/metadata/finalizers/" + i + "\"}]");
        log.info("finalizer removed diskpool={}", key(dp));
    }

    private void jsonPatch(DiskPool dp, String patch) {
        try {
            client.resources(DiskPool.class).inNamespace(dp.getMetadata().getNamespace()).withName(dp.getMetadata().getName())
                    .patch(PatchContext.of(PatchType.JSON), patch);
        } catch (KubernetesClientException e) {
            if (e.getCode() != 404) {
                throw e;
            }
            log.info("diskpool gone before its patch diskpool={}", key(dp)); // nothing left to hold
        }
    }

    private static String key(DiskPool dp) {
        return dp.getMetadata().getNamespace() + "/" + dp.getMetadata().getName();
    }

    private static String seconds(Duration d) {
        return String.format(java.util.Locale.ROOT, "%.1fs", d.toMillis() / 1000.0);
    }
}
