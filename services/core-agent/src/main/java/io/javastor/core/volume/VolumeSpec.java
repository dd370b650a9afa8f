package io.javastor.core.volume;

import java.util.UUID;

import io.javastor.core.CoreException;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.Spec;
import io.javastor.core.store.SpecKind;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/** A volume as the user asked for it. {@code affinityGroup} is empty for none. */
public record VolumeSpec(String uuid, long size, int replicaCount, boolean thin, Topology topology, String affinityGroup,
                         OperationStatus operation) implements Spec {

    public static final SpecKind<VolumeSpec> KIND = new SpecKind<>("volume", VolumeSpec.class);

    public VolumeSpec {
        affinityGroup = affinityGroup == null ? "" : affinityGroup;
        topology = topology == null ? Topology.ANY : topology;
    }

    @Override
    public String id() {
        return uuid;
    }

    public VolumeSpec with(OperationStatus op) {
        return new VolumeSpec(uuid, size, replicaCount, thin, topology, affinityGroup, op);
    }

    public VolumeSpec withSize(long s) {
        return new VolumeSpec(uuid, s, replicaCount, thin, topology, affinityGroup, operation);
    }

    public VolumeSpec withReplicaCount(int n) {
        return new VolumeSpec(uuid, size, n, thin, topology, affinityGroup, operation);
    }

    /** The same request, whatever the operation status: a repeated create with it succeeds. */
    public boolean sameIntent(VolumeSpec o) {
        return uuid.equals(o.uuid) && size == o.size && replicaCount == o.replicaCount && thin == o.thin
                && topology.equals(o.topology) && affinityGroup.equals(o.affinityGroup);
    }

    /** A volume's id is a UUID (it names its target's NQN and its replicas' owner). */
    public static void requireUuid(String uuid) {
        requireUuid("uuid", uuid);
    }

    /** As above, naming the request's {@code field} in the error. */
    public static void requireUuid(String field, String uuid) {
        try {
            if (uuid == null || !UUID.fromString(uuid).toString().equals(uuid.toLowerCase())) {
                throw new CoreException.InvalidArgument(field, "must be a UUID, got '" + uuid + "'");
            }
        } catch (IllegalArgumentException e) {
            throw new CoreException.InvalidArgument(field, "must be a UUID, got '" + uuid + "'");
        }
    }

    /** The volume's spec, which must be Created: NOT_FOUND or CONFLICT (being created or deleted) otherwise. */
    public static Versioned<VolumeSpec> readCreated(SpecStore store, String uuid) {
        Versioned<VolumeSpec> v = store.get(KIND, uuid).orElseThrow(() -> new CoreException.NotFound("volume " + uuid + ": not found"));
        if (v.spec().operation() != OperationStatus.CREATED) {
            throw new CoreException.Conflict("volume " + uuid + ": is " + v.spec().operation());
        }
        return v;
    }
}
