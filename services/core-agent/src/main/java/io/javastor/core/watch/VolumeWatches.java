package io.javastor.core.watch;

import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;
import io.javastor.core.volume.VolumeViews;

/** Registering, listing and removing the callbacks of a volume; the calls themselves are {@link WatchNotifier}'s. */
public final class VolumeWatches {

    private static final Logger log = LoggerFactory.getLogger(VolumeWatches.class);

    private final SpecStore store;
    private final VolumeViews volumes;

    public VolumeWatches(SpecStore store, VolumeViews volumes) {
        this.store = store;
        this.volumes = volumes;
    }

    /** Registers the callback; the same one again answers the existing watch. NotFound for an unknown volume. */
    public WatchSpec create(String volumeUuid, String callback) {
        String uuid = requireUuid(volumeUuid);
        CallbackUrl.parse(callback);
        // The volume as it is now is what the watcher starts from: only later changes call back.
        String fingerprint = VolumeFingerprint.of(volumes.get(uuid));
        Optional<Versioned<WatchSpec>> existing = store.get(WatchSpec.KIND, WatchSpec.idOf(uuid, callback));
        if (existing.isPresent()) {
            return existing.get().spec();
        }
        WatchSpec watch = new WatchSpec(uuid, callback, fingerprint);
        try {
            store.create(WatchSpec.KIND, watch);
        } catch (CoreException.Conflict raced) {
            // A concurrent register of the same callback won: it is the same watch.
            return store.get(WatchSpec.KIND, watch.id()).map(Versioned::spec).orElseThrow(() -> raced);
        }
        log.info("watch created volumeId={} callback={}", uuid, callback);
        return watch;
    }

    /** NotFound when the volume has no watch with this callback. */
    public void delete(String volumeUuid, String callback) {
        String uuid = requireUuid(volumeUuid);
        CallbackUrl.parse(callback);
        Versioned<WatchSpec> watch = store.get(WatchSpec.KIND, WatchSpec.idOf(uuid, callback))
                .orElseThrow(() -> new CoreException.NotFound("watch on volume " + uuid + " with callback " + callback + ": not found"));
        store.delete(WatchSpec.KIND, watch);
        log.info("watch deleted volumeId={} callback={}", uuid, callback);
    }

    /** The volume's watches; NotFound for an unknown volume (a gone volume's watches are being removed). */
    public List<WatchSpec> of(String volumeUuid) {
        String uuid = requireUuid(volumeUuid);
        volumes.get(uuid);
        return store.list(WatchSpec.KIND).stream().map(Versioned::spec).filter(w -> w.volumeUuid().equals(uuid)).toList();
    }

    List<Versioned<WatchSpec>> all() {
        return store.list(WatchSpec.KIND);
    }

    /** Records that the callback heard of {@code fingerprint}; false when the watch changed or went meanwhile. */
    boolean recordNotified(Versioned<WatchSpec> watch, String fingerprint) {
        try {
            store.update(WatchSpec.KIND, watch, watch.spec().notified(fingerprint));
            return true;
        } catch (CoreException e) {
            log.info("notification not recorded volumeId={} callback={}: {}", watch.spec().volumeUuid(), watch.spec().callback(), e.getMessage());
            return false;
        }
    }

    void remove(Versioned<WatchSpec> watch) {
        store.delete(WatchSpec.KIND, watch);
        log.info("watch removed with its volume volumeId={} callback={}", watch.spec().volumeUuid(), watch.spec().callback());
    }

    private static String requireUuid(String uuid) {
        try {
            if (uuid == null || !UUID.fromString(uuid).toString().equals(uuid.toLowerCase())) {
                throw new CoreException.InvalidArgument("volume_uuid", "must be a UUID, got '" + uuid + "'");
            }
        } catch (IllegalArgumentException e) {
            throw new CoreException.InvalidArgument("volume_uuid", "must be a UUID, got '" + uuid + "'");
        }
        return uuid.toLowerCase();
    }
}
