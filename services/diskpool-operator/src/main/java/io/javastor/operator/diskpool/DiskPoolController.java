package io.javastor.operator.diskpool;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.javastor.operator.control.Backoff;
import io.javastor.operator.control.ReconcileQueue;
import io.javastor.operator.rest.PoolsApi;

/**
 * Watches the DiskPools of one namespace (a fabric8 informer) and feeds their keys to a
 * {@link ReconcileQueue} running {@link DiskPoolReconciler}. Started by the leader only.
 * Status-only updates (our own writes) and resyncs do not enqueue: spec changes, deletion and
 * finalizer changes do; the reconciler's own RefreshAfter keeps the status current.
 */
public final class DiskPoolController implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DiskPoolController.class);

    private final SharedIndexInformer<DiskPool> informer;
    private final ReconcileQueue queue;
    private final String namespace;

    public DiskPoolController(KubernetesClient client, String namespace, PoolsApi pools, Backoff backoff, Supplier<Duration> refresh,
            PoolEvents events) {
        this.namespace = namespace;
        this.informer = client.resources(DiskPool.class).inNamespace(namespace).runnableInformer(0);
        DiskPoolReconciler reconciler = new DiskPoolReconciler(client, key -> informer.getStore().getByKey(key), pools, backoff,
                refresh, events);
        this.queue = new ReconcileQueue("diskpool", reconciler, backoff);
        informer.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(DiskPool dp) {
                queue.enqueue(Cache.metaNamespaceKeyFunc(dp));
            }

            @Override
            public void onUpdate(DiskPool before, DiskPool after) {
                if (!Objects.equals(before.getMetadata().getGeneration(), after.getMetadata().getGeneration())
                        || !Objects.equals(before.getSpec(), after.getSpec())
                        || !Objects.equals(before.getMetadata().getDeletionTimestamp(), after.getMetadata().getDeletionTimestamp())
                        || !Objects.equals(before.getMetadata().getFinalizers(), after.getMetadata().getFinalizers())) {
                    queue.enqueue(Cache.metaNamespaceKeyFunc(after));
                }
            }

            @Override
            public void onDelete(DiskPool dp, boolean deletedFinalStateUnknown) {
                queue.forget(Cache.metaNamespaceKeyFunc(dp));
            }
        });
    }

    /** Lists the DiskPools, then watches; every one listed is reconciled once. */
    public void start() {
        log.info("diskpool controller starting namespace={}", namespace);
        try {
            informer.start().toCompletableFuture().get(2, TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new IllegalStateException("DiskPool informer did not start in namespace " + namespace + ": " + e.getMessage(), e);
        }
        log.info("diskpool controller watching namespace={} diskpools={}", namespace, informer.getStore().list().size());
    }

    public boolean watching() {
        return informer.isWatching();
    }

    @Override
    public void close() {
        informer.close();
        queue.close();
        log.info("diskpool controller stopped namespace={}", namespace);
    }
}
