package io.javastor.ioengine.nvmf.tgt;

import io.javastor.ioengine.nvmf.PollingIoHandler;
import io.javastor.ioengine.nvmf.pdu.NvmeCommand;
import io.javastor.ioengine.nvmf.pdu.NvmeCompletion;
import io.javastor.ioengine.nvmf.pdu.NvmeOpcode;
import io.javastor.ioengine.nvmf.pdu.NvmeStatus;
import io.javastor.ioengine.nvmf.pdu.Pdu;
import io.javastor.ioengine.nvmf.pdu.PduException;
import io.javastor.ioengine.nvmf.pdu.PduFormat;
import io.javastor.ioengine.nvmf.pdu.PduType;
import io.javastor.ioengine.nvmf.auth.DhchapControllerExchange;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import io.netty.util.collection.IntObjectHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The transport side of one NVMe/TCP connection (NVMe/TCP 1.0, 3): one queue (admin or I/O) of one controller once
 * Connect succeeds. It sits after the PDU decoder as a Netty handler and turns PDUs into commands: it takes capsules,
 * asks for host data with R2T and gathers it from H2CData, copes with data digest errors, keeps the submission queue
 * head, and turns answers back into CapsuleResp and C2HData PDUs. What a command does is up to the command set it
 * belongs to: {@link FabricsCommands} until and including Connect, then {@link AdminCommands} on queue 0 or
 * {@link IoCommands} on an I/O queue.
 * All state is confined to the channel's event loop; device completions (on the io_uring poller) hop back
 * here before anything is written. Writes are flushed once per read batch or once per completion batch.
 */
final class TransportQueue extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(TransportQueue.class);

    private final NvmfTarget target;
    private final PduFormat format;
    private final FabricsCommands fabrics;
    /** In-band authentication of this queue, when its host must authenticate; null otherwise. */
    private DhchapControllerExchange authentication;
    /** The command set of the queue Connect made this: admin or I/O; null before. */
    private CommandSet commands;
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
    /** Fails writes whose data does not come within the limit; scheduled while this queue has any R2T outstanding. */
    private ScheduledFuture<?> dataTimeoutCheck;
    private boolean inRead;
    private boolean flushScheduled;
    /** Set by {@link #close()} at once (any thread), not when the channel is gone: nothing is read or answered after. */
    private volatile boolean closed;
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
        /** Bytes of the data budget this command holds until its data is in (0: none). */
        int heldBytes;
        /** When it started waiting for its data (System.nanoTime). */
        long waitingSince;

        Command(NvmeCommand cmd) {
            this.cmd = cmd;
        }
    }

    TransportQueue(NvmfTarget target, PduFormat format) {
        this.target = target;
        this.format = format;
        this.fabrics = new FabricsCommands(target, this);
    }

    EventLoop eventLoop() {
        return ctx.channel().eventLoop();
    }

    /**
     * Closes the connection (any thread). From now on no command is taken and none is answered: the channel's own close
     * runs later on its loop, and a command read or a write failed meanwhile (its nexus shutting down) must not get an
     * answer a host takes as the I/O's end; unanswered, the host retries it on its other path.
     */
    void close() {
        closed = true;
        ChannelHandlerContext c = ctx;
        if (c != null) {
            c.channel().close();
        }
    }

    String who() {
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
            releaseHeld(c);
        }
        if (dataTimeoutCheck != null) {
            dataTimeoutCheck.cancel(false);
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
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
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
        boolean connect = cmd.isFabrics() && cmd.fctype() == NvmeOpcode.FCTYPE_CONNECT;
        if (qid < 0 && !connect) {
            if (data != null) {
                data.release();
            }
            LOG.warn("{}: command opcode 0x{} before Connect; closing", who(), Integer.toHexString(cmd.opcode()));
            ctx.write(new Pdu.CapsuleResponse(new NvmeCompletion(0, 0, 0, 0, cmd.cid(), NvmeStatus.COMMAND_SEQUENCE_ERROR)));
            closed = true;
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        if (qid == 0 && inFlight.containsKey(cmd.cid()) && controller.asyncEvents().retire(cmd.cid())) {
            // An outstanding Asynchronous Event Request never blocks its id (as in the Linux and SPDK targets, which
            // do not track ids at all): a host that reuses it has given the request up (SPDK's does at detach).
            inFlight.remove(cmd.cid());
            LOG.info("{}: command id {} (opcode 0x{}) reuses the id of an outstanding Asynchronous Event Request: the host gave "
                    + "that request up; it is dropped", who(), cmd.cid(), Integer.toHexString(cmd.opcode()));
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
        if (authentication != null && !authentication.authenticated() && !isAuthentication(cmd)) {
            // Nothing but the DH-HMAC-CHAP exchange before the queue authenticated (NVMe base 2.0, 8.13.4).
            if (data != null) {
                data.release();
            }
            write(new Pdu.CapsuleResponse(new NvmeCompletion(0, 0, sqhdValue(), qid, cmd.cid(), NvmeStatus.AUTH_REQUIRED)));
            return;
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
            if (!target.reserveData(controller, length)) {
                // The host holds (or all hosts hold) as much write data in waiting as the limits allow: not now.
                LOG.debug("{}: command id {} ({} bytes) refused for now: data buffer limit reached", who(), cmd.cid(), length);
                respond(cmd.cid(), NvmeStatus.COMMAND_INTERRUPTED);
                return;
            }
            command.heldBytes = length;
            command.waitingSince = System.nanoTime();
            watchDataTimeout();
            command.buf = allocate(length);
            command.length = length;
            sendR2t(command);
            return;
        }
        execute(command, null);
    }

    /** 0 none, 1 host to controller, 2 controller to host (opcode bits 1:0; for fabrics commands FCTYPE bits 1:0). */
    private static int dataDirection(NvmeCommand cmd) {
        return (cmd.isFabrics() ? cmd.fctype() : cmd.opcode()) & 3;
    }

    private static boolean isAuthentication(NvmeCommand cmd) {
        return cmd.isFabrics() && (cmd.fctype() == NvmeOpcode.FCTYPE_AUTH_SEND || cmd.fctype() == NvmeOpcode.FCTYPE_AUTH_RECEIVE);
    }

    /** This queue must authenticate (the subsystem holds a DH-HMAC-CHAP secret for its host); set right after Connect. */
    void requireAuthentication(DhchapControllerExchange exchange) {
        this.authentication = exchange;
    }

    /** The queue's DH-HMAC-CHAP exchange, or null when its host does not authenticate. */
    DhchapControllerExchange authentication() {
        return authentication;
    }

    /** Closes the connection once what is written went out (a failed authentication). */
    void closeAfterFlush() {
        closed = true;
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    /** A buffer for command data, aligned as the namespace's device needs for direct I/O. */
    ByteBuf allocate(int length) {
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
                releaseHeld(c);
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
        releaseHeld(c);
        if (c.received < c.r2tEnd) {
            if (discarding == null) {
                discarding = new IntObjectHashMap<>(4);
            }
            discarding.put(cid, c); // TTAG == CID (sendR2t); received and r2tEnd now track what is still owed
        }
        respond(cid, status);
    }

    private void releaseHeld(Command c) {
        if (c.heldBytes > 0) {
            target.releaseData(controller, c.heldBytes);
            c.heldBytes = 0;
        }
    }

    /** Starts the periodic check for writes whose data is late (once per queue, on its loop). */
    private void watchDataTimeout() {
        if (dataTimeoutCheck == null) {
            long period = Math.max(100, Math.min(1000, target.options().limits().dataTimeout().toMillis() / 4));
            dataTimeoutCheck = ctx.channel().eventLoop().scheduleAtFixedRate(this::failLateData, period, period, TimeUnit.MILLISECONDS);
        }
    }

    /** Writes still waiting for their data past the limit fail, and their buffers go back (the late data is dropped). */
    private void failLateData() {
        if (closed) {
            return;
        }
        long limit = target.options().limits().dataTimeout().toNanos();
        long now = System.nanoTime();
        List<Command> late = null;
        for (Command c : inFlight.values()) {
            if (c.buf != null && c.heldBytes > 0 && now - c.waitingSince > limit) {
                if (late == null) {
                    late = new ArrayList<>(2);
                }
                late.add(c);
            }
        }
        if (late != null) {
            for (Command c : late) {
                LOG.warn("{}: command id {} got {} of its {} bytes within {} ms: failed (Transient Transport Error), buffer freed",
                        who(), c.cmd.cid(), c.received, c.length, TimeUnit.NANOSECONDS.toMillis(limit));
                completeWhileAwaitingData(c, NvmeStatus.TRANSIENT_TRANSPORT_ERROR);
            }
            ctx.flush();
        }
    }

    private void terminateWith(int fes, int fei) {
        terminate(new PduException(fes, fei, Unpooled.EMPTY_BUFFER, 0, 0, "protocol violation"));
    }

    // ------------------------------------------------------------------ execution

    /** Runs a command whose host data (if any) is in {@code data}; the command set then owns {@code data}. */
    private void execute(Command command, ByteBuf data) {
        NvmeCommand cmd = command.cmd;
        try {
            (cmd.isFabrics() ? fabrics : commands).execute(cmd, data);
        } catch (RuntimeException e) {
            LOG.warn("{}: command opcode 0x{} cid {} failed: {}", who(), Integer.toHexString(cmd.opcode()), cmd.cid(), e.toString());
            if (inFlight.containsKey(cmd.cid())) {
                respond(cmd.cid(), NvmeStatus.INTERNAL_ERROR);
            }
        }
    }

    /**
     * Connect made this the queue {@code qid} of {@code c} (NVMe-oF 1.1, 3.3): from now on its commands are the admin
     * command set (queue 0) or the I/O command set.
     */
    void bind(Controller c, int qid, int sqsize, boolean sqFlowControlDisabled) {
        this.controller = c;
        this.qid = qid;
        this.sqsize = sqsize;
        this.sqFlowControlDisabled = sqFlowControlDisabled;
        this.commands = qid == 0 ? new AdminCommands(this, c, target) : new IoCommands(this, c, target.options());
    }

    int qid() {
        return qid;
    }

    Controller controller() {
        return controller;
    }

    boolean isClosed() {
        return closed;
    }

    /** Whether command {@code cid} still waits for its answer (an abort may have answered it already). */
    boolean isInFlight(int cid) {
        return inFlight.containsKey(cid);
    }

    ByteBufAllocator alloc() {
        return ctx.alloc();
    }

    InetSocketAddress localAddress() {
        return (InetSocketAddress) ctx.channel().localAddress();
    }

    Object remoteAddress() {
        return ctx.channel().remoteAddress();
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

    /** Runs {@code r} on this channel's loop; if the loop is gone, releases {@code orphan}. */
    void runOnLoop(Runnable r, ByteBuf orphan) {
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
            if (orphan != null) {
                orphan.release();
            }
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

    void respond(int cid, int status) {
        respond(cid, status, 0, 0);
    }

    void respond(int cid, int status, int dw0, int dw1) {
        inFlight.remove(cid);
        write(new Pdu.CapsuleResponse(new NvmeCompletion(dw0, dw1, sqhdValue(), Math.max(qid, 0), cid, status)));
    }

    /**
     * Sends {@code page} from {@code offset} as the command's controller-to-host data, cut or zero-padded to the SGL
     * length (at most {@code maxTransfer}); releases {@code page}.
     */
    void sendPage(NvmeCommand cmd, ByteBuf page, int offset, int maxTransfer) {
        int len = cmd.sglLength();
        if (cmd.sglType() != NvmeCommand.SGL_TRANSPORT || len <= 0 || len > maxTransfer) {
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

    /** Controller-to-host data then success; with SQ flow control disabled the SUCCESS flag replaces the response. */
    void sendData(int cid, ByteBuf data) {
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
