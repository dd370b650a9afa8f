package io.javastor.core.pool;

import java.util.List;
import java.util.Map;

import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.Spec;
import io.javastor.core.store.SpecKind;

/**
 * A pool the cluster wants on a node.
 *
 * @param eraseExisting the user allowed erasing what the disk holds (a filesystem, ...); a one-time permission for
 *                      the create, kept so a create finished by a reconciler asks the same
 */
public record PoolSpec(String id, String nodeId, List<String> disks, Map<String, String> labels,
                       OperationStatus operation, boolean eraseExisting) implements Spec {

    public static final SpecKind<PoolSpec> KIND = new SpecKind<>("pool", PoolSpec.class);

    public PoolSpec {
        disks = List.copyOf(disks);
        labels = Map.copyOf(labels);
    }

    public PoolSpec(String id, String nodeId, List<String> disks, Map<String, String> labels, OperationStatus operation) {
        this(id, nodeId, disks, labels, operation, false);
    }

    public PoolSpec with(OperationStatus op) {
        return new PoolSpec(id, nodeId, disks, labels, op, eraseExisting);
    }

    /** Same intent, whatever the operation status (and whatever erase permission came with it). */
    public boolean sameIntent(PoolSpec o) {
        return id.equals(o.id) && nodeId.equals(o.nodeId) && disks.equals(o.disks) && labels.equals(o.labels);
    }
}
