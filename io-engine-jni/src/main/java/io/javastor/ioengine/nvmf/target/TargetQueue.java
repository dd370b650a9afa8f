package io.javastor.ioengine.nvmf.target;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.nvmf.PollingIoHandler;
import io.javastor.ioengine.nvmf.pdu.NvmeCommand;
import io.javastor.ioengine.nvmf.pdu.NvmeCompletion;
import io.javastor.ioengine.nvmf.pdu.NvmeStatus;
import io.javastor.ioengine.nvmf.pdu.Pdu;
import io.javastor.ioengine.nvmf.pdu.PduException;
import io.javastor.ioengine.nvmf.pdu.PduFormat;
import io.javastor.ioengine.nvmf.pdu.PduType;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import io.netty.util.collection.IntObjectHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * One NVMe/TCP connection on the target: one queue (admin or I/O) of one controller once Connect succeeds.
 * All state is confined to the channel's event loop; device completions (on the io_uring poller) hop back
 * here before anything is written. Writes are flushed once per read batch or once per completion batch.
 */
final class TargetQueue extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(TargetQueue.class);

    // Fabrics command types (NVMe-oF 1.1, figure 13).
    private static final int FCTYPE_PROPERTY_SET = 0x00;
    private static final int FCTYPE_CONNECT = 0x01;
    private static final int FCTYPE_PROPERTY_GET = 0x04;
    // Admin opcodes (base 2.0, figure 138).
    private static final int ADM_GET_LOG_PAGE = 0x02;
    private static final int ADM_IDENTIFY = 0x06;
    private static final int CDW12_FUA = 1 << 30;
    private static final int ADM_ABORT = 0x08;
    private static final int ADM_SET_FEATURES = 0x09;
    private static final int ADM_GET_FEATURES = 0x0A;
    private static final int ADM_ASYNC_EVENT = 0x0C;
    private static final int ADM_KEEP_ALIVE = 0x18;
    // NVM command set opcodes.
    private static final int IO_FLUSH = 0x00;
    private static final int IO_WRITE = 0x01;
    private static final int IO_READ = 0x02;
    private static final int IO_WRITE_ZEROES = 0x08;
    private static final int IO_DSM = 0x09;

    private final NvmfTarget target;
    private final PduFormat format;
    private ChannelHandlerContext ctx;
    private Controller controller;
    private int qid = -1;
    private int sqsize;
    private int sqhd;
    private boolean sqFlowControlDisabled;
    private final IntObjectHashMap<Command> inFlight = new IntObjectHashMap<>();
    /**
     * Commands that were completed (aborted) while the host still owed data for an R2T, by TTAG: the rest of that
     * data is read and dropped instead of being taken for a protocol error. Created on first use (never on the I/O path).
     */
    private IntObjectHashMap<Command> discarding;
    private final ArrayDeque<Integer> asyncEventCids = new ArrayDeque<>();
    /** Async events that happened while no request was outstanding (loop-confined). */
    private final ArrayDeque<Integer> pendingEvents = new ArrayDeque<>();
    private boolean inRead;
    private boolean flushScheduled;
    private boolean closed;
    private final Runnable flushTask = () -> {
        flushScheduled = false;
        if (!closed) {
            ctx.flush();
        }
    };

    /** A command waiting for its data (R2T) or for the device. */
    private static final class Command {
        final NvmeCommand cmd;
        ByteBuf buf;
        int length;
        int received;
        int r2tEnd;

        Command(NvmeCommand cmd) {
            this.cmd = cmd;
        }
    }

    TargetQueue(NvmfTarget target, PduFormat format) {
        this.target = target;
        this.format = format;
    }

    EventLoop eventLoop() {
        return ctx.channel().eventLoop();
    }

    /** Closes the connection (any thread). */
    void close() {
        ChannelHandlerContext c = ctx;
        if (c != null) {
            c.channel().close();
        }
    }

    private String who() {
        return controller == null ? "unconnected " + ctx.channel().remoteAddress()
                : "nqn=" + controller.subsystem().nqn() + " cntlid=" + controller.cntlid() + " qid=" + qid;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        for (Command c : inFlight.values()) {
            if (c.buf != null) {
                c.buf.release();
                c.buf = null;
            }
        }
        inFlight.clear();
        if (controller != null) {
            if (qid == 0) {
                controller.destroy();
            } else {
                controller.detachIoQueue(qid, this);
            }
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        inRead = true;
        Pdu pdu = (Pdu) msg;
        if (closed) {
            pdu.release();
            return;
        }
        if (pdu instanceof Pdu.CapsuleCommand c) {
            onCommand(c);
        } else if (pdu instanceof Pdu.H2CData d) {
            onH2cData(d);
        } else if (pdu instanceof Pdu.DataDigestError e) {
            onDataDigestError(e);
        } else if (pdu instanceof Pdu.IcReq r) {
            onIcReq(r);
        } else if (pdu instanceof Pdu.TermReq t) {
            LOG.info("{}: host terminated the connection (FES {}, FEI {})", who(), t.fes(), t.fei());
            t.release();
            ctx.close();
        } else {
            pdu.release();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        inRead = false;
        ctx.flush();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable t = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (t instanceof PduException e) {
            terminate(e);
        } else {
            LOG.warn("{}: closing connection: {}", who(), t.toString());
            ctx.close();
        }
    }

    /** Fatal transport error: C2HTermReq then close. */
    private void terminate(PduException e) {
        if (closed) {
            return;
        }
        LOG.warn("{}: fatal transport error, terminating connection: {} (FES {}, FEI {})", who(), e.getMessage(), e.fes(), e.fei());
        ctx.write(new Pdu.TermReq(false, e.fes(), e.fei(), e.headerCopy()));
        closed = true;
        ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    // ------------------------------------------------------------------ connection initialization

    private void onIcReq(Pdu.IcReq r) {
        ctx.write(new Pdu.IcResp(0, 0, r.headerDigest(), r.dataDigest(), target.options().maxH2cData()));
        format.initialize(r.headerDigest(), r.dataDigest(), r.hpda());
        ctx.flush();
    }

    // ------------------------------------------------------------------ command capsules

    private void onCommand(Pdu.CapsuleCommand c) {
        NvmeCommand cmd = c.command();
        ByteBuf data = c.data();
        boolean connect = cmd.isFabrics() && cmd.fctype() == FCTYPE_CONNECT;
        if (qid < 0 && !connect) {
            if (data != null) {
                data.release();
            }
            LOG.warn("{}: command opcode 0x{} before Connect; closing", who(), Integer.toHexString(cmd.opcode()));
            ctx.write(new Pdu.CapsuleResponse(new NvmeCompletion(0, 0, 0, 0, cmd.cid(), NvmeStatus.COMMAND_SEQUENCE_ERROR)));
            closed = true;
            ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        if (inFlight.containsKey(cmd.cid()) || (qid >= 0 && inFlight.size() > sqsize)) {
            if (data != null) {
                data.release();
            }
            LOG.warn("{}: command id {} already in flight or queue overrun ({} in flight, SQSIZE {})", who(), cmd.cid(), inFlight.size(), sqsize);
            terminateWith(PduType.FES_INVALID_HEADER_FIELD, 10);
            return;
        }
        if (discarding != null && !discarding.isEmpty()) {
            discarding.remove(cmd.cid()); // the host reuses the id only after our completion, so its stale data came first
        }
        advanceSqHead();
        if (qid == 0 && controller != null) {
            controller.keepAlive();
        }
        Command command = new Command(cmd);
        inFlight.put(cmd.cid(), command);
        int direction = dataDirection(cmd);
        int length = cmd.sglLength();
        if (data != null) {
            if (direction != 1 || cmd.sglType() != NvmeCommand.SGL_IN_CAPSULE || cmd.sglAddress() != 0) {
                data.release();
                respond(cmd.cid(), cmd.sglType() != NvmeCommand.SGL_IN_CAPSULE ? NvmeStatus.SGL_DESCRIPTOR_TYPE_INVALID
                        : cmd.sglAddress() != 0 ? NvmeStatus.SGL_OFFSET_INVALID : NvmeStatus.INVALID_FIELD);
                return;
            }
            if (data.readableBytes() != length) {
                data.release();
                respond(cmd.cid(), NvmeStatus.DATA_SGL_LENGTH_INVALID);
                return;
            }
            ByteBuf buf = allocate(length);
            buf.writeBytes(data);
            data.release();
            execute(command, buf);
            return;
        }
        if (direction == 1 && length > 0) {
            if (cmd.sglType() != NvmeCommand.SGL_TRANSPORT) {
                respond(cmd.cid(), NvmeStatus.SGL_DESCRIPTOR_TYPE_INVALID);
                return;
            }
            if (Integer.toUnsignedLong(length) > target.options().maxTransferSize()) {
                respond(cmd.cid(), NvmeStatus.DATA_SGL_LENGTH_INVALID);
                return;
            }
            command.buf = allocate(length);
            command.length = length;
            sendR2t(command);
            return;
        }
        execute(command, null);
    }

    /** 0 none, 1 host to controller, 2 controller to host (opcode bits 1:0; Connect carries data). */
    private static int dataDirection(NvmeCommand cmd) {
        if (cmd.isFabrics()) {
            return cmd.fctype() == FCTYPE_CONNECT ? 1 : 0;
        }
        return cmd.opcode() & 3;
    }

    private ByteBuf allocate(int length) {
        int align = 1;
        if (controller != null && !controller.subsystem().isDiscovery()) {
            align = Math.max(1, controller.subsystem().device().bufferAlignment());
        }
        return AlignedBuffers.allocate(ctx.alloc(), length, align);
    }

    private void sendR2t(Command c) {
        int len = Math.min(c.length - c.received, format.maxH2cData());
        c.r2tEnd = c.received + len;
        write(new Pdu.R2T(c.cmd.cid(), c.cmd.cid(), c.received, len));
    }

    private void onH2cData(Pdu.H2CData d) {
        Command c = inFlight.get(d.ttag());
        int len = d.data().readableBytes();
        if (c == null || c.buf == null || c.cmd.cid() != d.cccid() || c.r2tEnd == 0) {
            if (discardStale(d)) {
                return;
            }
            d.release();
            terminateWith(PduType.FES_INVALID_HEADER_FIELD, 10);
            return;
        }
        if (d.datao() != c.received || (long) d.datao() + len > c.r2tEnd) {
            d.release();
            terminateWith(PduType.FES_DATA_OUT_OF_RANGE, 0);
            return;
        }
        c.buf.writeBytes(d.data());
        d.release();
        c.received += len;
        if (c.received == c.r2tEnd) {
            if (c.received == c.length) {
                ByteBuf buf = c.buf;
                c.buf = null;
                c.r2tEnd = 0;
                execute(c, buf);
            } else {
                sendR2t(c);
            }
        }
    }

    /** Drops data owed for a command we already completed; false if {@code d} is not such data (a protocol error). */
    private boolean discardStale(Pdu.H2CData d) {
        if (!discardStale(d.ttag(), d.cccid(), d.datao(), d.data().readableBytes())) {
            return false;
        }
        d.release();
        return true;
    }

    private boolean discardStale(int ttag, int cccid, int datao, int len) {
        Command c = discarding == null ? null : discarding.get(ttag);
        if (c == null || c.cmd.cid() != cccid || datao != c.received || (long) datao + len > c.r2tEnd) {
            return false;
        }
        c.received += len;
        if (c.received == c.r2tEnd) {
            discarding.remove(ttag);
        }
        return true;
    }

    /**
     * A data digest error (NVMe/TCP 1.0, 7.4.6.2) is not fatal: the command it belongs to completes with Transient
     * Transport Error (its data never reaches the device) and the connection goes on with the next PDU. Data still
     * owed for that command's R2T is dropped as it comes. Header digest errors stay fatal (the decoder throws).
     */
    private void onDataDigestError(Pdu.DataDigestError e) {
        int cid = e.cccid();
        if (e.type() == PduType.CAPSULE_CMD) {
            if (inFlight.containsKey(cid)) {
                LOG.warn("{}: command id {} already in flight (capsule with a bad data digest)", who(), cid);
                terminateWith(PduType.FES_INVALID_HEADER_FIELD, 10);
                return;
            }
            LOG.warn("{}: data digest error in the capsule of command id {}: completing it with Transient Transport Error", who(), cid);
            if (discarding != null) {
                discarding.remove(cid);
            }
            advanceSqHead();
            respond(cid, NvmeStatus.TRANSIENT_TRANSPORT_ERROR);
            return;
        }
        Command c = inFlight.get(e.ttag());
        if (c == null || c.buf == null || c.cmd.cid() != cid || c.r2tEnd == 0) {
            if (!discardStale(e.ttag(), cid, e.datao(), e.datal())) {
                terminateWith(PduType.FES_INVALID_HEADER_FIELD, 10);
            }
            return;
        }
        if (e.datao() != c.received || (long) e.datao() + e.datal() > c.r2tEnd) {
            terminateWith(PduType.FES_DATA_OUT_OF_RANGE, 0);
            return;
        }
        LOG.warn("{}: data digest error in H2CData of command id {} at offset {}: completing it with Transient Transport Error",
                who(), cid, e.datao());
        c.received += e.datal();
        completeWhileAwaitingData(c, NvmeStatus.TRANSIENT_TRANSPORT_ERROR);
    }

    /**
     * Completes a command that is still waiting for host data with {@code status}, releasing its buffer; the rest of
     * the data the host owes for the current R2T is then discarded as it arrives. Loop only.
     */
    private void completeWhileAwaitingData(Command c, int status) {
        int cid = c.cmd.cid();
        c.buf.release();
        c.buf = null;
        if (c.received < c.r2tEnd) {
            if (discarding == null) {
                discarding = new IntObjectHashMap<>(4);
            }
            discarding.put(cid, c); // TTAG == CID (sendR2t); received and r2tEnd now track what is still owed
        }
        respond(cid, status);
    }

    private void terminateWith(int fes, int fei) {
        terminate(new PduException(fes, fei, io.netty.buffer.Unpooled.EMPTY_BUFFER, 0, 0, "protocol violation"));
    }

    // ------------------------------------------------------------------ execution

    /** Runs a command whose host data (if any) is in {@code data}, which this method then owns. */
    private void execute(Command command, ByteBuf data) {
        NvmeCommand cmd = command.cmd;
        try {
            if (cmd.isFabrics()) {
                fabrics(cmd, data);
            } else if (qid == 0) {
                admin(cmd, data);
            } else {
                io(cmd, data);
                return; // io() owns data from here
            }
        } catch (RuntimeException e) {
            LOG.warn("{}: command opcode 0x{} cid {} failed: {}", who(), Integer.toHexString(cmd.opcode()), cmd.cid(), e.toString());
            if (inFlight.containsKey(cmd.cid())) {
                respond(cmd.cid(), NvmeStatus.INTERNAL_ERROR);
            }
        }
        if (data != null) {
            data.release();
        }
    }

    private void fabrics(NvmeCommand cmd, ByteBuf data) {
        switch (cmd.fctype()) {
            case FCTYPE_CONNECT -> connect(cmd, data);
            case FCTYPE_PROPERTY_GET -> propertyGet(cmd);
            case FCTYPE_PROPERTY_SET -> propertySet(cmd);
            default -> respond(cmd.cid(), NvmeStatus.INVALID_OPCODE);
        }
    }

    private static String cString(ByteBuf b, int at, int len) {
        int end = at;
        while (end < at + len && b.getByte(end) != 0) {
            end++;
        }
        return b.toString(at, end - at, StandardCharsets.UTF_8).trim();
    }

    private void connect(NvmeCommand cmd, ByteBuf data) {
        int cid = cmd.cid();
        if (qid >= 0) {
            respond(cid, NvmeStatus.COMMAND_SEQUENCE_ERROR);
            return;
        }
        if (data == null || data.readableBytes() < 1024) {
            respond(cid, NvmeStatus.DATA_SGL_LENGTH_INVALID);
            return;
        }
        int recfmt = cmd.cdw10() & 0xFFFF;
        int q = cmd.cdw10() >>> 16;
        int sqsizeWanted = cmd.cdw11() & 0xFFFF;
        int cattr = (cmd.cdw11() >>> 16) & 0xFF;
        long kato = Integer.toUnsignedLong(cmd.cdw12());
        if (recfmt != 0) {
            respond(cid, NvmeStatus.CONNECT_INCOMPATIBLE_FORMAT);
            return;
        }
        int base = data.readerIndex();
        UUID hostId = new UUID(data.getLong(base), data.getLong(base + 8));
        int cntlid = data.getUnsignedShortLE(base + 16);
        String subnqn = cString(data, base + 256, 256);
        String hostnqn = cString(data, base + 512, 256);
        Subsystem sub = target.subsystem(subnqn);
        if (sub == null) {
            LOG.info("connect from {} host={} to unknown subsystem '{}'", ctx.channel().remoteAddress(), hostnqn, subnqn);
            // Without Do Not Retry: after an io-engine restart a volume's subsystem is absent for the seconds until the
            // core agent re-creates its target, and a host that obeys DNR (newer Linux) would stop reconnecting for good.
            respond(cid, NvmeStatus.retryable(NvmeStatus.CONNECT_INVALID_PARAMETERS), invalidParameter(true, 256), 0);
            return;
        }
        if (hostnqn.isEmpty()) {
            respond(cid, NvmeStatus.CONNECT_INVALID_PARAMETERS, invalidParameter(true, 512), 0);
            return;
        }
        if (!sub.allows(hostnqn)) {
            LOG.info("nqn={} refused host {} from {}: not in the allowed hosts", subnqn, hostnqn, ctx.channel().remoteAddress());
            respond(cid, NvmeStatus.CONNECT_INVALID_HOST);
            return;
        }
        int maxSqsize = (q == 0 && sub.isDiscovery() ? 32 : target.options().queueEntries()) - 1;
        if (sqsizeWanted == 0 || sqsizeWanted > maxSqsize) {
            respond(cid, NvmeStatus.CONNECT_INVALID_PARAMETERS, invalidParameter(false, 44), 0);
            return;
        }
        if (q == 0) {
            if (cntlid != 0xFFFF && cntlid != 0xFFFE) {
                respond(cid, NvmeStatus.CONNECT_INVALID_PARAMETERS, invalidParameter(true, 16), 0);
                return;
            }
            Controller c = target.createController(sub, hostnqn, hostId, kato, this);
            if (c == null) {
                respond(cid, NvmeStatus.CONNECT_CONTROLLER_BUSY);
                return;
            }
            controller = c;
            qid = 0;
            sqsize = sqsizeWanted;
            sqFlowControlDisabled = (cattr & 0x04) != 0;
            c.keepAliveTimeout(kato);
            LOG.info("nqn={} cntlid={} host={} admin queue connected from {} (SQSIZE {}, KATO {} ms)",
                    subnqn, c.cntlid(), hostnqn, ctx.channel().remoteAddress(), sqsizeWanted, kato);
        } else {
            Controller c = sub.controller(cntlid);
            if (sub.isDiscovery() || c == null || !c.hostNqn().equals(hostnqn) || !c.hostId().equals(hostId)) {
                respond(cid, NvmeStatus.CONNECT_INVALID_PARAMETERS,
                        invalidParameter(true, c != null && !c.hostNqn().equals(hostnqn) ? 512 : c != null && !c.hostId().equals(hostId) ? 0 : 16), 0);
                return;
            }
            if (!c.ready()) {
                respond(cid, NvmeStatus.COMMAND_SEQUENCE_ERROR);
                return;
            }
            if (q > c.grantedIoQueues() || !c.attachIoQueue(q, this)) {
                respond(cid, NvmeStatus.CONNECT_INVALID_PARAMETERS, invalidParameter(false, 42), 0);
                return;
            }
            controller = c;
            qid = q;
            sqsize = sqsizeWanted;
            sqFlowControlDisabled = (cattr & 0x04) != 0;
            LOG.debug("nqn={} cntlid={} qid={} I/O queue connected (SQSIZE {})", subnqn, c.cntlid(), q, sqsizeWanted);
        }
        respond(cid, NvmeStatus.SUCCESS, controller.cntlid(), 0);
    }

    /** Connect response DW0 for Connect Invalid Parameters: IATTR (1 = in the data) and IPO (byte offset). */
    private static int invalidParameter(boolean inData, int offset) {
        return (inData ? 1 << 16 : 0) | offset;
    }

    private long capRegister() {
        long mqes = target.options().queueEntries() - 1;
        // MQES, CQR, TO = 10 (5 s), CSS bit 37 (NVM command set), MPSMIN = MPSMAX = 0 (4 KiB)
        return mqes | (1L << 16) | (10L << 24) | (1L << 37);
    }

    private void propertyGet(NvmeCommand cmd) {
        boolean eight = (cmd.cdw10() & 7) == 1;
        int ofst = cmd.cdw11();
        if (qid != 0) {
            respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
            return;
        }
        long value;
        switch (ofst) {
            case 0x00 -> value = capRegister();
            case 0x08 -> value = 0x00010300;
            case 0x14 -> value = controller.cc();
            case 0x1C -> value = controller.csts();
            case 0x20 -> value = 0;
            default -> {
                respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
                return;
            }
        }
        if (!eight && ofst == 0) {
            value &= 0xFFFFFFFFL;
        }
        respond(cmd.cid(), NvmeStatus.SUCCESS, (int) value, eight ? (int) (value >>> 32) : 0);
    }

    private void propertySet(NvmeCommand cmd) {
        int ofst = cmd.cdw11();
        int value = cmd.cdw12();
        if (qid != 0) {
            respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
            return;
        }
        if (ofst == 0x14) {
            controller.writeCc(value);
            respond(cmd.cid(), NvmeStatus.SUCCESS);
        } else if (ofst == 0x20) {
            respond(cmd.cid(), NvmeStatus.SUCCESS);
        } else {
            respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
        }
    }

    private void admin(NvmeCommand cmd, ByteBuf data) {
        int cid = cmd.cid();
        if (!controller.ready()) {
            respond(cid, NvmeStatus.COMMAND_SEQUENCE_ERROR);
            return;
        }
        Subsystem sub = controller.subsystem();
        switch (cmd.opcode()) {
            case ADM_IDENTIFY -> identify(cmd, sub);
            case ADM_GET_LOG_PAGE -> getLogPage(cmd, sub);
            case ADM_SET_FEATURES -> setFeatures(cmd);
            case ADM_GET_FEATURES -> getFeatures(cmd);
            case ADM_KEEP_ALIVE -> respond(cid, NvmeStatus.SUCCESS);
            case ADM_ABORT -> abort(cmd);
            case ADM_ASYNC_EVENT -> {
                if (asyncEventCids.size() >= 4) {
                    respond(cid, NvmeStatus.ASYNC_EVENT_LIMIT_EXCEEDED);
                } else if (!pendingEvents.isEmpty()) {
                    respond(cid, NvmeStatus.SUCCESS, pendingEvents.poll(), 0); // an event that found no request outstanding
                } else {
                    asyncEventCids.add(cid); // completed when an event happens
                }
            }
            default -> respond(cid, NvmeStatus.INVALID_OPCODE);
        }
    }

    /**
     * Abort (base 2.0, 5.1): CDW10 SQID 15:0, CID 31:16. Only a command of an I/O queue of this controller that is still
     * waiting for its data is aborted (it never reached the device, so stopping it is safe); anything else is answered
     * "not aborted" (dw0 bit 0 = 1), which the spec allows for any command. The I/O queue lives on its own event loop:
     * the question hops there and the answer hops back here.
     */
    private void abort(NvmeCommand cmd) {
        int cid = cmd.cid();
        int sqid = cmd.cdw10() & 0xFFFF;
        int victim = cmd.cdw10() >>> 16;
        TargetQueue q = sqid == 0 ? null : controller.ioQueue(sqid);
        if (q == null) {
            respond(cid, NvmeStatus.SUCCESS, 1, 0);
            return;
        }
        q.abortIfAwaitingData(victim, aborted -> runOnLoop(() -> {
            if (!closed && inFlight.containsKey(cid)) {
                respond(cid, NvmeStatus.SUCCESS, aborted ? 0 : 1, 0);
            }
        }, null));
    }

    /** Any thread: aborts command {@code cid} if it is waiting for host data; tells {@code answer} whether it did. */
    void abortIfAwaitingData(int cid, Consumer<Boolean> answer) {
        try {
            ctx.channel().eventLoop().execute(() -> {
                Command c = closed ? null : inFlight.get(cid);
                boolean awaitingData = c != null && c.buf != null && c.r2tEnd != 0;
                if (awaitingData) {
                    LOG.info("{}: command id {} aborted while waiting for its data ({} of {} bytes received)", who(), cid, c.received, c.length);
                    completeWhileAwaitingData(c, NvmeStatus.ABORT_REQUESTED);
                }
                answer.accept(awaitingData);
            });
        } catch (RejectedExecutionException e) {
            answer.accept(false);
        }
    }

    /**
     * Completes one outstanding Async Event Request (any thread); with none outstanding the event waits for the
     * host's next one (base 2.0, 5.2: events are reported when a request is outstanding).
     */
    void completeAsyncEvent(int dw0) {
        runOnLoop(() -> {
            if (closed) {
                return;
            }
            Integer cid = asyncEventCids.poll();
            if (cid != null) {
                respond(cid, NvmeStatus.SUCCESS, dw0, 0);
            } else if (pendingEvents.size() < 16) {
                pendingEvents.add(dw0);
            }
        }, null);
    }

    private void identify(NvmeCommand cmd, Subsystem sub) {
        int cns = cmd.cdw10() & 0xFF;
        int csi = (cmd.cdw11() >>> 24) & 0xFF;
        int nsid = cmd.nsid();
        boolean ns1 = !sub.isDiscovery() && nsid == 1;
        ByteBuf page;
        switch (cns) {
            case 0x00 -> page = ns1 ? ControllerPages.identifyNamespace(sub) : null;
            case 0x01 -> page = ControllerPages.identifyController(controller, target.options());
            case 0x02 -> page = sub.isDiscovery() ? null : ControllerPages.activeNamespaces(sub, nsid);
            case 0x03 -> page = ns1 ? ControllerPages.namespaceDescriptors(sub) : null;
            case 0x05 -> page = ns1 && csi == 0 ? ControllerPages.zeroes(ControllerPages.IDENTIFY_SIZE) : null;
            case 0x06 -> page = !sub.isDiscovery() && csi == 0 ? ControllerPages.zeroes(ControllerPages.IDENTIFY_SIZE) : null;
            default -> {
                respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
                return;
            }
        }
        if (page == null) {
            respond(cmd.cid(), cns == 0x00 || cns == 0x03 || cns == 0x05 ? NvmeStatus.INVALID_NAMESPACE : NvmeStatus.INVALID_FIELD);
            return;
        }
        sendPage(cmd, page, 0);
    }

    private void getLogPage(NvmeCommand cmd, Subsystem sub) {
        int lid = cmd.cdw10() & 0xFF;
        int lsp = (cmd.cdw10() >>> 8) & 0x7F;
        long numd = ((Integer.toUnsignedLong(cmd.cdw11() & 0xFFFF) << 16) | (cmd.cdw10() >>> 16)) + 1;
        long offset = Integer.toUnsignedLong(cmd.cdw12()) | ((long) cmd.cdw13() << 32);
        ByteBuf page = switch (lid) {
            case 0x01 -> ControllerPages.zeroes(64);
            case 0x02 -> sub.isDiscovery() ? null : ControllerPages.smartLog(sub);
            case 0x03 -> sub.isDiscovery() ? null : ControllerPages.firmwareLog();
            case 0x04 -> sub.isDiscovery() ? null : ControllerPages.changedNamespaces(controller.readChangedNamespaces((cmd.cdw10() & 0x8000) != 0));
            case 0x0C -> sub.isDiscovery() ? null : ControllerPages.anaLog(sub, (lsp & 1) != 0);
            case 0x70 -> sub.isDiscovery() ? discoveryLog() : null;
            default -> null;
        };
        if (page == null) {
            respond(cmd.cid(), NvmeStatus.INVALID_LOG_PAGE);
            return;
        }
        if (offset % 4 != 0 || offset > page.readableBytes() || numd * 4 > target.options().maxTransferSize()) {
            page.release();
            respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
            return;
        }
        sendPage(cmd, page, (int) offset);
    }

    private ByteBuf discoveryLog() {
        InetSocketAddress local = (InetSocketAddress) ctx.channel().localAddress();
        return ControllerPages.discoveryLog(target.generation(), target.visibleTo(controller.hostNqn()),
                target.advertisedAddress(local.getAddress()), local.getPort());
    }

    /** Sends {@code page} from {@code offset} as the command's controller-to-host data, cut or zero-padded to the SGL length. */
    private void sendPage(NvmeCommand cmd, ByteBuf page, int offset) {
        int len = cmd.sglLength();
        if (cmd.sglType() != NvmeCommand.SGL_TRANSPORT || len <= 0 || len > target.options().maxTransferSize()) {
            page.release();
            respond(cmd.cid(), len == 0 ? NvmeStatus.DATA_SGL_LENGTH_INVALID : NvmeStatus.SGL_DESCRIPTOR_TYPE_INVALID);
            return;
        }
        ByteBuf out = ctx.alloc().buffer(len);
        int avail = Math.max(0, Math.min(len, page.readableBytes() - offset));
        out.writeBytes(page, offset, avail);
        out.writeZero(len - avail);
        page.release();
        sendData(cmd.cid(), out);
    }

    private void setFeatures(NvmeCommand cmd) {
        int fid = cmd.cdw10() & 0xFF;
        if ((cmd.cdw10() & 0x80000000) != 0) {
            respond(cmd.cid(), NvmeStatus.FEATURE_NOT_SAVEABLE);
            return;
        }
        int v = cmd.cdw11();
        switch (fid) {
            case 0x07 -> { // Number of Queues: NSQR 15:0, NCQR 31:16, 0's based
                int nsqr = v & 0xFFFF;
                int ncqr = v >>> 16;
                if (nsqr == 0xFFFF || ncqr == 0xFFFF || controller.subsystem().isDiscovery()) {
                    respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
                    return;
                }
                int granted = controller.requestIoQueues(Math.max(nsqr, ncqr) + 1) - 1;
                respond(cmd.cid(), NvmeStatus.SUCCESS, granted | (granted << 16), 0);
            }
            case 0x0F -> {
                controller.keepAliveTimeout(Integer.toUnsignedLong(v));
                respond(cmd.cid(), NvmeStatus.SUCCESS);
            }
            case 0x0B -> {
                controller.asyncEventConfig(v);
                respond(cmd.cid(), NvmeStatus.SUCCESS);
            }
            case 0x06 -> {
                controller.volatileWriteCache((v & 1) != 0);
                respond(cmd.cid(), NvmeStatus.SUCCESS);
            }
            default -> respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
        }
    }

    private void getFeatures(NvmeCommand cmd) {
        int fid = cmd.cdw10() & 0xFF;
        int sel = (cmd.cdw10() >>> 8) & 7;
        if (sel == 3) {
            respond(cmd.cid(), NvmeStatus.SUCCESS, fid == 0x07 || fid == 0x0F || fid == 0x0B || fid == 0x06 ? 0x4 : 0, 0);
            return;
        }
        switch (fid) {
            case 0x07 -> {
                int g = controller.grantedIoQueues() - 1;
                respond(cmd.cid(), NvmeStatus.SUCCESS, g | (g << 16), 0);
            }
            case 0x0F -> respond(cmd.cid(), NvmeStatus.SUCCESS, (int) controller.keepAliveTimeoutMillis(), 0);
            case 0x0B -> respond(cmd.cid(), NvmeStatus.SUCCESS, controller.asyncEventConfig(), 0);
            case 0x06 -> respond(cmd.cid(), NvmeStatus.SUCCESS, controller.volatileWriteCache() ? 1 : 0, 0);
            default -> respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
        }
    }

    // ------------------------------------------------------------------ NVM I/O commands

    private void io(NvmeCommand cmd, ByteBuf data) {
        PollingIoHandler.touch(); // a device completion is coming: keep polling for it
        int cid = cmd.cid();
        Subsystem sub = controller.subsystem();
        BlockDevice dev = sub.device();
        boolean flushAll = cmd.opcode() == IO_FLUSH && cmd.nsid() == 0xFFFFFFFF;
        if (cmd.nsid() != 1 && !flushAll) {
            releaseQuietly(data);
            respond(cid, NvmeStatus.INVALID_NAMESPACE);
            return;
        }
        int bs = dev.blockSize();
        switch (cmd.opcode()) {
            case IO_READ -> {
                long len = (long) cmd.blockCount() * bs;
                if (!rangeOk(cmd, dev, len)) {
                    return;
                }
                if (len != Integer.toUnsignedLong(cmd.sglLength()) || cmd.sglType() != NvmeCommand.SGL_TRANSPORT) {
                    respond(cid, NvmeStatus.DATA_SGL_LENGTH_INVALID);
                    return;
                }
                ByteBuf buf = allocate((int) len);
                ByteBuffer nio = buf.nioBuffer(0, (int) len);
                sub.readCommands.increment();
                sub.bytesRead.add(len);
                dev.read(cmd.slba() * bs, nio).whenComplete((v, t) -> runOnLoop(() -> {
                    if (closed) {
                        buf.release();
                    } else if (t != null) {
                        buf.release();
                        respond(cid, errorStatus(t, true));
                    } else {
                        buf.writerIndex((int) len);
                        sendData(cid, buf);
                    }
                }, buf));
            }
            case IO_WRITE -> {
                long len = (long) cmd.blockCount() * bs;
                if (data == null || len != data.readableBytes()) {
                    releaseQuietly(data);
                    respond(cid, NvmeStatus.DATA_SGL_LENGTH_INVALID);
                    return;
                }
                if (!rangeOk(cmd, dev, len)) {
                    data.release();
                    return;
                }
                sub.writeCommands.increment();
                sub.bytesWritten.add(len);
                // Durable before it completes when the host asked (FUA) or turned the volatile write cache off.
                CompletableFuture<Void> written = durableWrite(cmd)
                        ? dev.writeFua(cmd.slba() * bs, data.nioBuffer())
                        : dev.write(cmd.slba() * bs, data.nioBuffer());
                complete(cid, written, data, false);
            }
            case IO_FLUSH -> complete(cid, dev.flush(), data, false);
            case IO_WRITE_ZEROES -> {
                long len = (long) cmd.blockCount() * bs;
                releaseQuietly(data);
                if (rangeOk(cmd, dev, len)) {
                    CompletableFuture<Void> zeroed = dev.writeZeroes(cmd.slba() * bs, len);
                    complete(cid, durableWrite(cmd) ? zeroed.thenCompose(v -> dev.flush()) : zeroed, null, false);
                }
            }
            case IO_DSM -> datasetManagement(cmd, dev, data);
            default -> {
                releaseQuietly(data);
                respond(cid, NvmeStatus.INVALID_OPCODE);
            }
        }
    }

    /** Write and Write Zeroes: FUA (CDW12 bit 30, NVM command set 3.2.6), or Volatile Write Cache disabled (feature 06h). */
    private boolean durableWrite(NvmeCommand cmd) {
        return (cmd.cdw12() & CDW12_FUA) != 0 || !controller.volatileWriteCache();
    }

    private boolean rangeOk(NvmeCommand cmd, BlockDevice dev, long len) {
        long blocks = dev.size() / dev.blockSize();
        long slba = cmd.slba();
        if (slba < 0 || slba + len / dev.blockSize() > blocks) {
            respond(cmd.cid(), NvmeStatus.LBA_OUT_OF_RANGE);
            return false;
        }
        if (len > target.options().maxTransferSize() && cmd.opcode() != IO_WRITE_ZEROES) {
            respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
            return false;
        }
        return true;
    }

    private void datasetManagement(NvmeCommand cmd, BlockDevice dev, ByteBuf data) {
        int ranges = (cmd.cdw10() & 0xFF) + 1;
        boolean deallocate = (cmd.cdw11() & 0x4) != 0;
        if (data == null || data.readableBytes() < ranges * 16) {
            releaseQuietly(data);
            respond(cmd.cid(), NvmeStatus.DATA_SGL_LENGTH_INVALID);
            return;
        }
        List<long[]> extents = new ArrayList<>();
        long blocks = dev.size() / dev.blockSize();
        for (int i = 0; i < ranges; i++) {
            int at = data.readerIndex() + i * 16;
            long nlb = data.getUnsignedIntLE(at + 4);
            long slba = data.getLongLE(at + 8);
            if (slba < 0 || slba + nlb > blocks) {
                data.release();
                respond(cmd.cid(), NvmeStatus.LBA_OUT_OF_RANGE);
                return;
            }
            if (nlb > 0) {
                extents.add(new long[] {slba * dev.blockSize(), nlb * dev.blockSize()});
            }
        }
        data.release();
        if (!deallocate || extents.isEmpty()) {
            respond(cmd.cid(), NvmeStatus.SUCCESS);
            return;
        }
        CompletableFuture<?>[] fs = extents.stream().map(e -> dev.unmap(e[0], e[1])).toArray(CompletableFuture[]::new);
        complete(cmd.cid(), CompletableFuture.allOf(fs), null, false);
    }

    /** Responds when the device future completes, on this loop; {@code hold} is released afterwards. */
    private void complete(int cid, CompletableFuture<?> f, ByteBuf hold, boolean read) {
        f.whenComplete((v, t) -> runOnLoop(() -> {
            releaseQuietly(hold);
            if (!closed) {
                respond(cid, t == null ? NvmeStatus.SUCCESS : errorStatus(t, read));
            }
        }, hold));
    }

    private static void releaseQuietly(ByteBuf b) {
        if (b != null) {
            b.release();
        }
    }

    private int errorStatus(Throwable t, boolean read) {
        Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        LOG.warn("{}: I/O failed: {}", who(), c.toString());
        if (c instanceof BlockIoException e) {
            return switch (e.errno()) {
                case BlockIoException.ERANGE -> NvmeStatus.LBA_OUT_OF_RANGE;
                case BlockIoException.EINVAL -> NvmeStatus.INVALID_FIELD;
                default -> read ? NvmeStatus.UNRECOVERED_READ_ERROR : NvmeStatus.WRITE_FAULT;
            };
        }
        return NvmeStatus.INTERNAL_ERROR;
    }

    /** Runs {@code r} on this channel's loop; if the loop is gone, releases {@code orphan}. */
    private void runOnLoop(Runnable r, ByteBuf orphan) {
        EventLoop loop = ctx.channel().eventLoop();
        if (loop.inEventLoop()) {
            r.run();
            return;
        }
        try {
            loop.execute(() -> {
                PollingIoHandler.touch(); // answered: the host's next command is on its way
                r.run();
            });
        } catch (RejectedExecutionException e) {
            releaseQuietly(orphan);
        }
    }

    // ------------------------------------------------------------------ responses

    /** A command was taken off the submission queue (NVMe-oF 1.1, SQ flow control: SQHD in every response). */
    private void advanceSqHead() {
        if (qid >= 0 && !sqFlowControlDisabled) {
            sqhd = (sqhd + 1) % (sqsize + 1);
        }
    }

    private int sqhdValue() {
        return sqFlowControlDisabled ? 0xFFFF : sqhd;
    }

    private void respond(int cid, int status) {
        respond(cid, status, 0, 0);
    }

    private void respond(int cid, int status, int dw0, int dw1) {
        inFlight.remove(cid);
        write(new Pdu.CapsuleResponse(new NvmeCompletion(dw0, dw1, sqhdValue(), Math.max(qid, 0), cid, status)));
    }

    /** Controller-to-host data then success; with SQ flow control disabled the SUCCESS flag replaces the response. */
    private void sendData(int cid, ByteBuf data) {
        if (sqFlowControlDisabled) {
            inFlight.remove(cid);
            write(new Pdu.C2HData(cid, 0, true, true, data));
        } else {
            write(new Pdu.C2HData(cid, 0, true, false, data));
            respond(cid, NvmeStatus.SUCCESS);
        }
    }

    private void write(Pdu pdu) {
        ctx.write(pdu, ctx.voidPromise());
        if (!inRead && !flushScheduled) {
            flushScheduled = true;
            ctx.channel().eventLoop().execute(flushTask);
        }
    }
}
