package io.javastor.core.nexus;

import java.util.Set;
import java.util.TreeSet;

import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.Spec;
import io.javastor.core.store.SpecKind;

/**
 * What the volume's targets have said about its replicas (Mayastor's NexusInfo), kept across targets: which
 * replicas may miss acknowledged writes, and whether the last target was shut down in order. No record means
 * a volume that never had a target: every replica is in sync.
 *
 * @param outOfSync     replica uuids a target faulted, or that were added and not yet rebuilt
 * @param cleanShutdown the last target was destroyed in order: its in-sync children hold the same data. After a
 *                      crash they may differ where writes were in flight, so the next target starts from one of
 *                      them and rebuilds the rest
 * @param targetGeneration raised before every target of the volume is created, and that target's reservation key on
 *                      its children: a newer target preempts an older one's key, after which the older one cannot
 *                      write to them (docs/ha.md). Records from before it existed read 0
 */
public record NexusInfo(String uuid, Set<String> outOfSync, boolean cleanShutdown, long targetGeneration) implements Spec {

    public static final SpecKind<NexusInfo> KIND = new SpecKind<>("nexusinfo", NexusInfo.class);

    public NexusInfo {
        outOfSync = Set.copyOf(new TreeSet<>(outOfSync));
    }

    public static NexusInfo fresh(String volumeUuid) {
        return new NexusInfo(volumeUuid, Set.of(), true, 0);
    }

    public NexusInfo withOutOfSync(Set<String> replicaUuids) {
        return new NexusInfo(uuid, replicaUuids, cleanShutdown, targetGeneration);
    }

    public NexusInfo withCleanShutdown(boolean clean) {
        return new NexusInfo(uuid, outOfSync, clean, targetGeneration);
    }

    @Override
    public String id() {
        return uuid;
    }

    @Override
    public OperationStatus operation() {
        return OperationStatus.CREATED;
    }

    public boolean inSync(String replicaUuid) {
        return !outOfSync.contains(replicaUuid);
    }
}
