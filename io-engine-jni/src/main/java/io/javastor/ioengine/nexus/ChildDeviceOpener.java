package io.javastor.ioengine.nexus;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.nvmf.auth.DhchapKeys;

/**
 * Opens a child's device by URI: {@code bdev:///uuid} (a local replica), {@code nvmf://host:port/nqn} (a remote
 * one). Fails with {@link io.javastor.ioengine.EngineException} or {@link io.javastor.ioengine.device.BlockIoException}.
 * The nexus closes what it opened when the child faults, is removed, or the nexus is destroyed.
 */
@FunctionalInterface
public interface ChildDeviceOpener {
    BlockDevice open(String uri);

    /** Opens it for writing by {@code writer} (a nexus): an engine lets one writer at a time open a replica. */
    default BlockDevice open(String uri, String writer) {
        return open(uri);
    }

    /**
     * Opens it for {@code writer}, authenticating with {@code keys} (DH-HMAC-CHAP; null: none) where the child is
     * remote; a local child has no link to authenticate.
     */
    default BlockDevice open(String uri, String writer, DhchapKeys keys) {
        return open(uri, writer);
    }
}
