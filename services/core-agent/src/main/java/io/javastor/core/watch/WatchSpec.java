package io.javastor.core.watch;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.Spec;
import io.javastor.core.store.SpecKind;

/**
 * A callback registered on a volume. Kept in etcd so it outlives the agent that took it, and so does
 * {@code notifiedFingerprint}: a new leader notifies only what changed since the last call that succeeded.
 *
 * @param notifiedFingerprint the {@link VolumeFingerprint} the callback last heard of (at registration: the
 *                            volume as it was then, so registering does not call back)
 */
public record WatchSpec(String volumeUuid, String callback, String notifiedFingerprint) implements Spec {

    public static final SpecKind<WatchSpec> KIND = new SpecKind<>("watch", WatchSpec.class);

    /** The key part under the volume: a URL may hold any character, a hash of it is safe in an etcd key. */
    @Override
    public String id() {
        return idOf(volumeUuid, callback);
    }

    /** A watch is written whole or not at all: nothing to finish or undo after a crash. */
    @Override
    public OperationStatus operation() {
        return OperationStatus.CREATED;
    }

    public WatchSpec notified(String fingerprint) {
        return new WatchSpec(volumeUuid, callback, fingerprint);
    }

    public static String idOf(String volumeUuid, String callback) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(callback.getBytes(UTF_8));
            return volumeUuid + "/" + HexFormat.of().formatHex(hash, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
