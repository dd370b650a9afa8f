package io.javastor.ioengine.device;

import io.javastor.ioengine.reservation.HostReservations;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * An asynchronous block device: a pool's disk, a replica, a remote namespace or a nexus.
 *
 * <p>Offsets and lengths are in bytes and must be multiples of {@link #blockSize()}. Buffers are used
 * from their position to their limit and are not moved (absolute I/O); devices backed by O_DIRECT need
 * direct buffers aligned to {@link #bufferAlignment()} (see {@link DmaBuffers}). Futures fail with
 * {@link BlockIoException}. A completed write is on the device; it is durable only after a
 * {@link #flush()} that started after the write completed, or when it was a {@link #writeFua} (NVMe's model:
 * Force Unit Access, Flush, volatile write cache).
 */
public interface BlockDevice extends AutoCloseable {

    String uri();

    /** Capacity in bytes. */
    long size();

    /**
     * Asks the device for its current capacity (a remote namespace may have grown since it was connected) and
     * returns it; {@link #size()} answers the same afterwards. Blocking; local devices know their size already.
     */
    default long refreshSize() {
        return size();
    }

    /**
     * Who this device is now, beyond its name: changes whenever what it acknowledged may have been lost or written by
     * someone else meanwhile (a replica's pool re-imported after a crash, another writer). A nexus trusts its dirty-range
     * log for a partial rebuild only when a re-opened child answers the same instance. Null: unknown (always rebuild in full).
     */
    default String instanceId() {
        return null;
    }

    /**
     * The reservation commands of whoever opened this device, on the namespace behind it; null when the device has no
     * reservations (a raw disk, a RAM disk). A write refused by them fails with {@link BlockIoException#EBADE}.
     */
    default HostReservations reservations() {
        return null;
    }

    /** Logical block size in bytes: the I/O granularity. */
    int blockSize();

    /** Memory alignment buffers must have (1 for devices that copy). */
    default int bufferAlignment() {
        return 1;
    }

    CompletableFuture<Void> read(long offset, ByteBuffer dst);

    CompletableFuture<Void> write(long offset, ByteBuffer src);

    /**
     * A write that is durable when it completes, with any metadata it needed (a thin cluster's allocation): NVMe's
     * Force Unit Access. It says nothing about other writes. The default writes, then flushes; a flush that starts
     * after the write completed covers it (what Linux does for a device without FUA).
     */
    default CompletableFuture<Void> writeFua(long offset, ByteBuffer src) {
        return write(offset, src).thenCompose(v -> flush());
    }

    /** Makes every write completed before this call durable. */
    CompletableFuture<Void> flush();

    /** Deallocates a range; afterwards it reads as zeroes or as its old contents (advisory). */
    CompletableFuture<Void> unmap(long offset, long length);

    /** Makes a range read as zeroes. */
    CompletableFuture<Void> writeZeroes(long offset, long length);

    @Override
    void close();

    /** Checks an I/O request against this device's geometry; throws {@link BlockIoException} (EINVAL/ERANGE). */
    default void checkRange(String op, long offset, long length) {
        int bs = blockSize();
        if (offset < 0 || length < 0 || offset % bs != 0 || length % bs != 0) {
            throw new BlockIoException(BlockIoException.EINVAL, op, uri(), offset, length,
                    "offset and length must be non-negative multiples of the block size " + bs);
        }
        if (offset + length > size() || offset + length < 0) {
            throw new BlockIoException(BlockIoException.ERANGE, op, uri(), offset, length,
                    "beyond the end of the device (" + size() + " bytes)");
        }
    }
}
