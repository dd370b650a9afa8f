package io.javastor.ioengine.nexus;

import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.auth.DhchapKeys;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import io.javastor.ioengine.pool.PoolRegistry;
import io.javastor.ioengine.replica.ReservedOpening;
import io.javastor.ioengine.reservation.ReservationRegistry;

import java.time.Duration;
import java.util.UUID;

/**
 * The io-engine's way to open nexus children: {@code bdev:///<uuid>} is a replica in one of this engine's pools,
 * {@code nvmf://host:port/nqn} a remote replica through our NVMe/TCP initiator, connecting as this node's host NQN.
 */
public final class EngineChildDevices implements ChildDeviceOpener {
    private final PoolRegistry pools;
    private final ReservationRegistry reservations;
    private final NvmfHostOptions hostOptions;

    /**
     * @param nexusIoTimeout the nexus's own per-child I/O timeout; a remote child's commands time out at half of it, so
     *                       the initiator resets the queue (closing the connection first) before the nexus gives up on
     *                       the I/O: data the replica sends late can then never land in a buffer the nexus has already
     *                       handed back to its user
     */
    public EngineChildDevices(PoolRegistry pools, ReservationRegistry reservations, String nodeNqn, Duration nexusIoTimeout) {
        this(pools, reservations, nodeNqn, nexusIoTimeout, true);
    }

    /** @param digests header and data digests on the connections to remote children */
    public EngineChildDevices(PoolRegistry pools, ReservationRegistry reservations, String nodeNqn, Duration nexusIoTimeout, boolean digests) {
        this.pools = pools;
        this.reservations = reservations;
        // Two queues (sockets) per child; a lost connection is not waited for long: the nexus faults the child
        // at the first failed I/O and reconnects only when the child is re-added.
        this.hostOptions = NvmfHostOptions.defaults(nodeNqn).withQueues(2, 128).withReconnectDeadline(Duration.ofSeconds(5))
                .withIoTimeout(remoteIoTimeout(nexusIoTimeout)).withDigests(digests, digests);
    }

    /** Half the nexus's timeout: the initiator answers by 1.25 x its own timeout (NvmfHostOptions), well inside the nexus's. */
    static Duration remoteIoTimeout(Duration nexusIoTimeout) {
        return nexusIoTimeout.dividedBy(2);
    }

    @Override
    public BlockDevice open(String uri) {
        return open(uri, "an unnamed writer");
    }

    @Override
    public BlockDevice open(String uri, String writer) {
        return open(uri, writer, null);
    }

    @Override
    public BlockDevice open(String uri, String writer, DhchapKeys keys) {
        if (uri == null || uri.isBlank()) {
            throw EngineException.invalid("uri", "a child URI is required");
        }
        if (uri.startsWith("bdev:///")) {
            UUID id;
            try {
                id = UUID.fromString(uri.substring("bdev:///".length()));
            } catch (IllegalArgumentException e) {
                throw EngineException.invalid("uri", "'" + uri + "' is not bdev:///<replica uuid>");
            }
            BlockDevice opening = pools.findReplica(id)
                    .orElseThrow(() -> EngineException.notFound("replica " + id + " (child " + uri + ") is not on this node"))
                    .openForWriting(writer);
            // Under the replica's reservations as this node's host, the identity its remote children connect with.
            return new ReservedOpening(opening, reservations.forReplica(id), hostOptions.hostId());
        }
        if (uri.startsWith("nvmf://")) {
            try {
                return NvmfBlockDevice.connect(uri, keys == null ? hostOptions : hostOptions.withDhchap(keys));
            } catch (IllegalArgumentException e) {
                throw EngineException.invalid("uri", e.getMessage());
            } catch (BlockIoException e) {
                throw new EngineException(EngineException.Kind.UNAVAILABLE, "cannot connect child " + uri + ": " + e.getMessage(), e);
            }
        }
        throw EngineException.invalid("uri", "'" + uri + "': a child URI is bdev:///<uuid> or nvmf://host:port/nqn");
    }
}
