package io.javastor.operator.diskpool;

import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

import io.javastor.operator.rest.RestPool;

/**
 * What a DiskPool must say before anything is done for it. Each problem is one message that starts
 * with the field at fault; a DiskPool with a problem changes nothing (no pool, no finalizer).
 */
final class SpecRules {
    /** The REST API's pool id rule: the resource's name is the pool's id. */
    private static final Pattern POOL_ID = io.javastor.api.naming.ResourceIds.POOL_ID;
    /** The disk URI schemes the io-engine serves (the same pattern as the CRD's). */
    private static final Pattern DISK = Pattern.compile("^(uring|aio|malloc)://.+$");

    private SpecRules() {
    }

    static Optional<String> problem(DiskPool dp) {
        String name = dp.getMetadata().getName();
        if (name == null || !POOL_ID.matcher(name).matches()) {
            return Optional.of("metadata.name: the pool id must be 1-63 letters, digits, '.', '_' or '-', got '" + name + "'");
        }
        DiskPoolSpec spec = dp.getSpec();
        if (spec == null) {
            return Optional.of("spec: is required (spec.node and spec.disks)");
        }
        if (spec.node() == null || spec.node().isBlank()) {
            return Optional.of("spec.node: is required (the node whose io-engine holds the disk)");
        }
        List<String> disks = spec.disks();
        if (disks == null || disks.isEmpty()) {
            return Optional.of("spec.disks: needs exactly one disk URI, got none");
        }
        if (disks.size() > 1) {
            return Optional.of("spec.disks: needs exactly one disk URI, got " + disks.size());
        }
        String disk = disks.get(0);
        if (disk == null || !DISK.matcher(disk).matches()) {
            return Optional.of("spec.disks[0]: must be a uring://, aio:// or malloc:// URI, got '" + disk + "'");
        }
        return Optional.empty();
    }

    /** A pool that exists already must be the one the spec describes: pools cannot move or change disks. */
    static Optional<String> mismatch(DiskPoolSpec spec, RestPool existing) {
        if (existing.node() != null && !existing.node().equals(spec.node())) {
            return Optional.of("spec.node: pool " + existing.id() + " exists on node " + existing.node()
                    + " and cannot move; spec asks for node " + spec.node());
        }
        if (!existing.disks().isEmpty() && !existing.disks().equals(spec.disks())) {
            return Optional.of("spec.disks: pool " + existing.id() + " was created from " + existing.disks()
                    + " and cannot change disks; spec asks for " + spec.disks());
        }
        return Optional.empty();
    }
}
