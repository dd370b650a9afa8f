package io.javastor.core.volume;

import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.Spec;
import io.javastor.core.store.SpecKind;

/**
 * A volume as the user asked for it. {@code affinityGroup} is empty for none.
 *
 * @param maxSnapshots  how many snapshots the volume may have; 0 for no limit
 * @param contentSource the snapshot the volume was restored from (its replicas are clones of that snapshot's replica
 *                      snapshots); empty for a volume created empty
 * @param contentSourceVolume the volume that snapshot was taken of (kept: the snapshot may be deleted later)
 */
public record VolumeSpec(String uuid, long size, int replicaCount, boolean thin, Topology topology, String affinityGroup,
                         OperationStatus operation, int maxSnapshots, String contentSource, String contentSourceVolume) implements Spec {

    public static final SpecKind<VolumeSpec> KIND = new SpecKind<>("volume", VolumeSpec.class);

    public VolumeSpec {
        affinityGroup = affinityGroup == null ? "" : affinityGroup;
        topology = topology == null ? Topology.ANY : topology;
        contentSource = contentSource == null ? "" : contentSource;
        contentSourceVolume = contentSourceVolume == null ? "" : contentSourceVolume;
    }

    public VolumeSpec(String uuid, long size, int replicaCount, boolean thin, Topology topology, String affinityGroup,
                      OperationStatus operation) {
        this(uuid, size, replicaCount, thin, topology, affinityGroup, operation, 0, "", "");
    }

    @Override
    public String id() {
        return uuid;
    }

    public VolumeSpec with(OperationStatus op) {
        return new VolumeSpec(uuid, size, replicaCount, thin, topology, affinityGroup, op, maxSnapshots, contentSource, contentSourceVolume);
    }

    public VolumeSpec withSize(long s) {
        return new VolumeSpec(uuid, s, replicaCount, thin, topology, affinityGroup, operation, maxSnapshots, contentSource, contentSourceVolume);
    }

    public VolumeSpec withMaxSnapshots(int n) {
        return new VolumeSpec(uuid, size, replicaCount, thin, topology, affinityGroup, operation, n, contentSource, contentSourceVolume);
    }

    public VolumeSpec withReplicaCount(int n) {
        return new VolumeSpec(uuid, size, n, thin, topology, affinityGroup, operation, maxSnapshots, contentSource, contentSourceVolume);
    }

    /** The same request, whatever the operation status: a repeated create with it succeeds. */
    public boolean sameIntent(VolumeSpec o) {
        return uuid.equals(o.uuid) && size == o.size && replicaCount == o.replicaCount && thin == o.thin
                && topology.equals(o.topology) && affinityGroup.equals(o.affinityGroup) && maxSnapshots == o.maxSnapshots
                && contentSource.equals(o.contentSource);
    }
}
