package io.javastor.ioengine.nvmf.tgt;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.nvmf.PollingIoHandler;
import io.javastor.ioengine.nvmf.pdu.NvmeCommand;
import io.javastor.ioengine.nvmf.pdu.NvmeOpcode;
import io.javastor.ioengine.nvmf.pdu.NvmeStatus;
import io.javastor.ioengine.reservation.HostAccess;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The NVM command set on an I/O queue (NVM Command Set 1.0, 3): Read, Write, Flush, Write Zeroes, Dataset
 * Management (deallocate) and the reservation commands on namespace 1, which is the subsystem's block device. A command goes to the device as it
 * is (no copy of the data the transport gathered) and is answered, on the queue's loop, when the device completes it.
 */
final class IoCommands implements CommandSet {
    private static final Logger LOG = LoggerFactory.getLogger(IoCommands.class);
    /** Flush with NSID FFFFFFFFh: every namespace (base 2.0, 7.1). */
    private static final int ALL_NAMESPACES = 0xFFFFFFFF;
    /** Dataset Management CDW11 bit 2: AD, deallocate the ranges. */
    private static final int DSM_DEALLOCATE = 0x4;
    /** A Dataset Management range (NVM Command Set 1.0, figure 39): 16 bytes, LENGTH at 4, SLBA at 8. */
    private static final int DSM_RANGE_SIZE = 16;

    private final TransportQueue queue;
    private final Controller controller;
    private final NvmfTargetOptions options;
    private final ReservationCommands reservationCommands;

    IoCommands(TransportQueue queue, Controller controller, NvmfTargetOptions options) {
        this.queue = queue;
        this.controller = controller;
        this.options = options;
        this.reservationCommands = new ReservationCommands(queue, controller, options);
    }

    @Override
    public void execute(NvmeCommand cmd, ByteBuf data) {
        PollingIoHandler.touch(); // a device completion is coming: keep polling for it
        int cid = cmd.cid();
        Subsystem sub = controller.subsystem();
        BlockDevice dev = sub.device();
        boolean flushAll = cmd.opcode() == NvmeOpcode.FLUSH && cmd.nsid() == ALL_NAMESPACES;
        if (cmd.nsid() != 1 && !flushAll) {
            release(data);
            queue.respond(cid, NvmeStatus.INVALID_NAMESPACE);
            return;
        }
        if (!sub.anaState().accessible()) {
            // Not through this path (an old target of the volume): a host with multipath retries it on another one.
            release(data);
            queue.respond(cid, NvmeStatus.ANA_INACCESSIBLE);
            return;
        }
        switch (cmd.opcode()) {
            case NvmeOpcode.READ -> {
                if (controller.access().mayRead()) {
                    read(cmd, sub, dev);
                } else {
                    queue.respond(cid, NvmeStatus.RESERVATION_CONFLICT);
                }
            }
            case NvmeOpcode.WRITE, NvmeOpcode.FLUSH, NvmeOpcode.WRITE_ZEROES, NvmeOpcode.DATASET_MANAGEMENT -> writeGroup(cmd, sub, dev, data);
            case NvmeOpcode.RESERVATION_REGISTER, NvmeOpcode.RESERVATION_REPORT, NvmeOpcode.RESERVATION_ACQUIRE,
                 NvmeOpcode.RESERVATION_RELEASE -> reservationCommands.execute(cmd, data);
            default -> {
                release(data);
                queue.respond(cid, NvmeStatus.INVALID_OPCODE);
            }
        }
    }

    /**
     * The commands that change the namespace (NVM command set 3, "write command group" of the reservations, base 2.0,
     * figure 547): admitted by the host's reservation access, which counts them until the device has them done, so a
     * preempt of this host can wait for them.
     */
    private void writeGroup(NvmeCommand cmd, Subsystem sub, BlockDevice dev, ByteBuf data) {
        HostAccess access = controller.access();
        if (!access.beginWrite()) {
            release(data);
            queue.respond(cmd.cid(), NvmeStatus.RESERVATION_CONFLICT);
            return;
        }
        CompletableFuture<?> onDevice;
        try {
            onDevice = switch (cmd.opcode()) {
                case NvmeOpcode.WRITE -> write(cmd, sub, dev, data);
                case NvmeOpcode.FLUSH -> complete(cmd.cid(), dev.flush(), data, false);
                case NvmeOpcode.WRITE_ZEROES -> writeZeroes(cmd, dev, data);
                default -> datasetManagement(cmd, dev, data);
            };
        } catch (RuntimeException e) {
            access.endWrite();
            throw e;
        }
        if (onDevice == null) {
            access.endWrite(); // answered without reaching the device
        } else {
            onDevice.whenComplete((v, t) -> access.endWrite());
        }
    }

    /** Read (3.2.4): the data goes back in C2HData straight from the buffer the device read into. */
    private void read(NvmeCommand cmd, Subsystem sub, BlockDevice dev) {
        int cid = cmd.cid();
        int bs = dev.blockSize();
        long len = (long) cmd.blockCount() * bs;
        if (!rangeOk(cmd, dev, len)) {
            return;
        }
        if (len != Integer.toUnsignedLong(cmd.sglLength()) || cmd.sglType() != NvmeCommand.SGL_TRANSPORT) {
            queue.respond(cid, NvmeStatus.DATA_SGL_LENGTH_INVALID);
            return;
        }
        ByteBuf buf = queue.allocate((int) len);
        ByteBuffer nio = buf.nioBuffer(0, (int) len);
        sub.readCommands.increment();
        sub.bytesRead.add(len);
        dev.read(cmd.slba() * bs, nio).whenComplete((v, t) -> queue.runOnLoop(() -> {
            if (queue.isClosed()) {
                buf.release();
            } else if (t != null) {
                buf.release();
                queue.respond(cid, errorStatus(t, true));
            } else {
                buf.writerIndex((int) len);
                queue.sendData(cid, buf);
            }
        }, buf));
    }

    /** Write (3.2.6): durable before it completes when the host asked (FUA) or turned the volatile write cache off. */
    private CompletableFuture<?> write(NvmeCommand cmd, Subsystem sub, BlockDevice dev, ByteBuf data) {
        int cid = cmd.cid();
        int bs = dev.blockSize();
        long len = (long) cmd.blockCount() * bs;
        if (data == null || len != data.readableBytes()) {
            release(data);
            queue.respond(cid, NvmeStatus.DATA_SGL_LENGTH_INVALID);
            return null;
        }
        if (!rangeOk(cmd, dev, len)) {
            data.release();
            return null;
        }
        sub.writeCommands.increment();
        sub.bytesWritten.add(len);
        CompletableFuture<Void> written;
        try {
            written = durableWrite(cmd) ? dev.writeFua(cmd.slba() * bs, data.nioBuffer()) : dev.write(cmd.slba() * bs, data.nioBuffer());
        } catch (RuntimeException e) {
            data.release();
            throw e;
        }
        return complete(cid, written, data, false);
    }

    /** Write Zeroes (3.2.8): no data moves; with FUA (or the cache off) a flush follows before it completes. */
    private CompletableFuture<?> writeZeroes(NvmeCommand cmd, BlockDevice dev, ByteBuf data) {
        release(data);
        long len = (long) cmd.blockCount() * dev.blockSize();
        if (!rangeOk(cmd, dev, len)) {
            return null;
        }
        CompletableFuture<Void> zeroed = dev.writeZeroes(cmd.slba() * dev.blockSize(), len);
        return complete(cmd.cid(), durableWrite(cmd) ? zeroed.thenCompose(v -> dev.flush()) : zeroed, null, false);
    }

    /** Write and Write Zeroes: FUA (CDW12 bit 30, NVM command set 3.2.6), or Volatile Write Cache disabled (feature 06h). */
    private boolean durableWrite(NvmeCommand cmd) {
        return (cmd.cdw12() & NvmeCommand.CDW12_FUA) != 0 || !controller.volatileWriteCache();
    }

    private boolean rangeOk(NvmeCommand cmd, BlockDevice dev, long len) {
        long blocks = dev.size() / dev.blockSize();
        long slba = cmd.slba();
        if (slba < 0 || slba + len / dev.blockSize() > blocks) {
            queue.respond(cmd.cid(), NvmeStatus.LBA_OUT_OF_RANGE);
            return false;
        }
        if (len > options.maxTransferSize() && cmd.opcode() != NvmeOpcode.WRITE_ZEROES) {
            queue.respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
            return false;
        }
        return true;
    }

    /** Dataset Management (3.2.3): CDW10 NR 7:0 (0's based range count), CDW11 attributes; only deallocate acts. */
    private CompletableFuture<?> datasetManagement(NvmeCommand cmd, BlockDevice dev, ByteBuf data) {
        int ranges = (cmd.cdw10() & 0xFF) + 1;
        boolean deallocate = (cmd.cdw11() & DSM_DEALLOCATE) != 0;
        if (data == null || data.readableBytes() < ranges * DSM_RANGE_SIZE) {
            release(data);
            queue.respond(cmd.cid(), NvmeStatus.DATA_SGL_LENGTH_INVALID);
            return null;
        }
        List<long[]> extents = new ArrayList<>();
        long blocks = dev.size() / dev.blockSize();
        for (int i = 0; i < ranges; i++) {
            int at = data.readerIndex() + i * DSM_RANGE_SIZE;
            long nlb = data.getUnsignedIntLE(at + 4);
            long slba = data.getLongLE(at + 8);
            if (slba < 0 || slba + nlb > blocks) {
                data.release();
                queue.respond(cmd.cid(), NvmeStatus.LBA_OUT_OF_RANGE);
                return null;
            }
            if (nlb > 0) {
                extents.add(new long[] {slba * dev.blockSize(), nlb * dev.blockSize()});
            }
        }
        data.release();
        if (!deallocate || extents.isEmpty()) {
            queue.respond(cmd.cid(), NvmeStatus.SUCCESS);
            return null;
        }
        CompletableFuture<?>[] fs = extents.stream().map(e -> dev.unmap(e[0], e[1])).toArray(CompletableFuture[]::new);
        return complete(cmd.cid(), CompletableFuture.allOf(fs), null, false);
    }

    /** Responds when the device future completes, on the queue's loop; {@code hold} is released afterwards. Returns {@code f}. */
    private CompletableFuture<?> complete(int cid, CompletableFuture<?> f, ByteBuf hold, boolean read) {
        f.whenComplete((v, t) -> queue.runOnLoop(() -> {
            release(hold);
            if (!queue.isClosed()) {
                queue.respond(cid, t == null ? NvmeStatus.SUCCESS : errorStatus(t, read));
            }
        }, hold));
        return f;
    }

    private static void release(ByteBuf b) {
        if (b != null) {
            b.release();
        }
    }

    /** The NVMe status for a failed device operation: its errno by meaning, else a media error the host reports as EIO. */
    private int errorStatus(Throwable t, boolean read) {
        Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        LOG.warn("{}: I/O failed: {}", queue.who(), c.toString());
        if (c instanceof BlockIoException e) {
            return switch (e.errno()) {
                case BlockIoException.ERANGE -> NvmeStatus.LBA_OUT_OF_RANGE;
                case BlockIoException.EINVAL -> NvmeStatus.INVALID_FIELD;
                // A nexus fenced by a newer target of its volume (its child answered Reservation Conflict): this path is
                // done, as for every later command (anaState), and a multipath host retries the I/O on its other path.
                // A media error here would reach the application.
                case BlockIoException.EBADE -> NvmeStatus.ANA_INACCESSIBLE;
                // The nexus behind this path is shutting down (its target moves, or the engine stops): a path error too.
                // Answered as a media error, a drain's planned move failed the writes that came in as it began.
                case BlockIoException.ESHUTDOWN -> NvmeStatus.ANA_INACCESSIBLE;
                default -> read ? NvmeStatus.UNRECOVERED_READ_ERROR : NvmeStatus.WRITE_FAULT;
            };
        }
        return NvmeStatus.INTERNAL_ERROR;
    }
}
