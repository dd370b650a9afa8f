package io.javastor.ioengine.device;

import io.javastor.ioengine.reservation.HostReservations;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/** A device that passes every call to another; subclasses override what they change. */
public class ForwardingBlockDevice implements BlockDevice {
    protected final BlockDevice inner;

    public ForwardingBlockDevice(BlockDevice inner) {
        this.inner = inner;
    }

    @Override
    public String uri() {
        return inner.uri();
    }

    @Override
    public long size() {
        return inner.size();
    }

    @Override
    public long refreshSize() {
        return inner.refreshSize();
    }

    @Override
    public String instanceId() {
        return inner.instanceId();
    }

    @Override
    public HostReservations reservations() {
        return inner.reservations();
    }

    @Override
    public int blockSize() {
        return inner.blockSize();
    }

    @Override
    public int bufferAlignment() {
        return inner.bufferAlignment();
    }

    @Override
    public CompletableFuture<Void> read(long offset, ByteBuffer dst) {
        return inner.read(offset, dst);
    }

    @Override
    public CompletableFuture<Void> write(long offset, ByteBuffer src) {
        return inner.write(offset, src);
    }

    @Override
    public CompletableFuture<Void> writeFua(long offset, ByteBuffer src) {
        return inner.writeFua(offset, src);
    }

    @Override
    public CompletableFuture<Void> flush() {
        return inner.flush();
    }

    @Override
    public CompletableFuture<Void> unmap(long offset, long length) {
        return inner.unmap(offset, length);
    }

    @Override
    public CompletableFuture<Void> writeZeroes(long offset, long length) {
        return inner.writeZeroes(offset, length);
    }

    @Override
    public void close() {
        inner.close();
    }
}
