package io.javastor.ioengine.replica;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.device.ForwardingBlockDevice;
import io.javastor.ioengine.reservation.HostAccess;
import io.javastor.ioengine.reservation.HostReservations;
import io.javastor.ioengine.reservation.NamespaceReservations;
import io.javastor.ioengine.reservation.NamespaceReservations.Outcome;
import io.javastor.ioengine.reservation.ReservationStatus;
import io.javastor.ioengine.reservation.ReservationType;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * A replica opened in this engine by one host (a nexus on this node), under the replica's reservations: the same
 * ones its NVMe-oF share serves to remote hosts, so a nexus on another node that preempts this host's key fences
 * these writes too. Writes, write zeroes, unmaps and flushes the reservations refuse fail with EBADE, as they would
 * over the wire; reads are refused only under an exclusive-access type.
 */
public final class ReservedOpening extends ForwardingBlockDevice implements HostReservations {
    private final NamespaceReservations reservations;
    private final HostAccess access;

    public ReservedOpening(BlockDevice opening, NamespaceReservations reservations, java.util.UUID hostId) {
        super(opening);
        this.reservations = reservations;
        this.access = reservations.host(hostId);
    }

    @Override
    public HostReservations reservations() {
        return this;
    }

    private CompletableFuture<Void> writeGroup(String op, long offset, long length, Supplier<CompletableFuture<Void>> call) {
        if (!access.beginWrite()) {
            return CompletableFuture.failedFuture(conflict(op, offset, length));
        }
        CompletableFuture<Void> f;
        try {
            f = call.get();
        } catch (RuntimeException e) {
            access.endWrite();
            throw e;
        }
        return f.whenComplete((v, t) -> access.endWrite());
    }

    private BlockIoException conflict(String op, long offset, long length) {
        return new BlockIoException(BlockIoException.EBADE, op, uri(), offset, length,
                "reservation conflict: host " + access.hostId() + " is shut out by the replica's reservations");
    }

    @Override
    public CompletableFuture<Void> read(long offset, ByteBuffer dst) {
        return access.mayRead() ? inner.read(offset, dst) : CompletableFuture.failedFuture(conflict("read", offset, dst.remaining()));
    }

    @Override
    public CompletableFuture<Void> write(long offset, ByteBuffer src) {
        return writeGroup("write", offset, src.remaining(), () -> inner.write(offset, src));
    }

    @Override
    public CompletableFuture<Void> writeFua(long offset, ByteBuffer src) {
        return writeGroup("write-fua", offset, src.remaining(), () -> inner.writeFua(offset, src));
    }

    @Override
    public CompletableFuture<Void> flush() {
        return writeGroup("flush", 0, 0, inner::flush);
    }

    @Override
    public CompletableFuture<Void> unmap(long offset, long length) {
        return writeGroup("unmap", offset, length, () -> inner.unmap(offset, length));
    }

    @Override
    public CompletableFuture<Void> writeZeroes(long offset, long length) {
        return writeGroup("write-zeroes", offset, length, () -> inner.writeZeroes(offset, length));
    }

    // ------------------------------------------------------------------ the host's reservation commands

    @Override
    public CompletableFuture<Outcome> register(int action, boolean ignoreExistingKey, long currentKey, long newKey) {
        return call(() -> CompletableFuture.completedFuture(reservations.register(access.hostId(), action, ignoreExistingKey, currentKey, newKey,
                NamespaceReservations.CPTPL_NO_CHANGE)));
    }

    @Override
    public CompletableFuture<Outcome> acquire(int action, ReservationType type, long currentKey, long preemptKey) {
        return call(() -> reservations.acquire(access.hostId(), action, type.rtype(), currentKey, preemptKey));
    }

    @Override
    public CompletableFuture<Outcome> release(int action, ReservationType type, long currentKey) {
        return call(() -> CompletableFuture.completedFuture(reservations.release(access.hostId(), action, type.rtype(), currentKey)));
    }

    @Override
    public CompletableFuture<ReservationStatus> report() {
        return CompletableFuture.completedFuture(reservations.status());
    }

    /** A failure to keep the change (the store) fails the future, as a lost connection does for a remote replica. */
    private static CompletableFuture<Outcome> call(Supplier<CompletableFuture<Outcome>> c) {
        try {
            return c.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
