package io.javastor.ioengine.nvmf.host;

import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.nvmf.PollingIoHandler;
import io.javastor.ioengine.nvmf.pdu.NvmeCommand;
import io.javastor.ioengine.nvmf.pdu.NvmeCompletion;
import io.javastor.ioengine.nvmf.pdu.NvmeOpcode;
import io.javastor.ioengine.nvmf.pdu.Pdu;
import io.javastor.ioengine.nvmf.pdu.PduException;
import io.javastor.ioengine.nvmf.pdu.PduFormat;
import io.javastor.ioengine.nvmf.pdu.PduType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One host-side NVMe/TCP queue (one connection). Confined to its event loop: requests submitted from other
 * threads hop there. Command ids index a fixed table of {@code size} slots; requests beyond that wait in order.
 * Completion callbacks run on the event loop.
 *
 * <p>Command timeouts: one periodic task per queue advances a tick counter and scans the slots; sending a command
 * only stamps its slot with the current tick (no timer object per command). A command older than the timeout
 * resets the queue: the connection is closed first, so nothing the controller still sends can reach a caller's
 * buffer, then every command of the queue fails, then {@code onLost} starts the reconnect.
 */
final class HostQueue extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(HostQueue.class);

    /** A command in flight: data to send (host to controller) or a buffer to fill (controller to host). */
    static final class Request {
        final NvmeCommand command;
        final ByteBuffer data;
        final boolean toController;
        final Consumer<NvmeCompletion> onDone;
        final Consumer<Throwable> onError;
        int received;
        /** Some of its C2HData failed the data digest: it fails when it completes, whatever the controller says. */
        boolean corrupted;

        Request(NvmeCommand command, ByteBuffer data, boolean toController, Consumer<NvmeCompletion> onDone, Consumer<Throwable> onError) {
            this.command = command;
            this.data = data;
            this.toController = toController;
            this.onDone = onDone;
            this.onError = onError;
        }

        int length() {
            return data == null ? 0 : data.remaining();
        }
    }

    final int qid;
    private final String name;
    private final PduFormat format;
    private final boolean hdgst;
    private final boolean ddgst;
    private final Request[] slots;
    private final int[] freeCids;
    private int freeCount;
    private final ArrayDeque<Request> waiting = new ArrayDeque<>();
    /** Scan tick at which each slot's command was sent. */
    private final int[] sentTick;
    /** When command id i was sent, and how the loop waits for its answer (PollingIoHandler#commandSent). */
    private final long[] sentAt;
    private final byte[] waitMode;
    /** Scan period and how many whole periods a command may be older than before it is overdue (0: no timeouts). */
    private final long tickMillis;
    private final int timeoutTicks;
    private final long timeoutMillis;
    private int tick;
    private ScheduledFuture<?> timeoutScan;
    private ChannelHandlerContext ctx;
    final CompletableFuture<Void> initialized = new CompletableFuture<>();
    private final Runnable onLost;
    private volatile boolean closing;
    private boolean dead;
    private int inCapsuleMax;
    private final java.util.function.IntSupplier commandsInFlight = this::commandsInFlight;

    HostQueue(int qid, String name, int size, PduFormat format, boolean hdgst, boolean ddgst, int inCapsuleMax, long timeoutMillis,
              Runnable onLost) {
        this.qid = qid;
        this.name = name;
        this.format = format;
        this.hdgst = hdgst;
        this.ddgst = ddgst;
        this.slots = new Request[size];
        this.freeCids = new int[size];
        for (int i = 0; i < size; i++) {
            freeCids[i] = size - 1 - i;
        }
        this.freeCount = size;
        this.sentTick = new int[size];
        this.sentAt = new long[size];
        this.waitMode = new byte[size];
        this.timeoutMillis = timeoutMillis;
        // 8 scans per timeout: a command fails between 1 and 1.25 timeouts after it was sent.
        this.tickMillis = timeoutMillis <= 0 ? 0 : Math.max(1, timeoutMillis / 8);
        this.timeoutTicks = timeoutMillis <= 0 ? 0 : (int) ((timeoutMillis + tickMillis - 1) / tickMillis);
        this.inCapsuleMax = inCapsuleMax;
        this.onLost = onLost;
    }

    EventLoop loop() {
        return ctx.channel().eventLoop();
    }

    Channel channel() {
        return ctx.channel();
    }

    void inCapsuleMax(int bytes) {
        this.inCapsuleMax = bytes;
    }

    /** Closes the connection on purpose (no loss reported). */
    void close() {
        closing = true;
        if (ctx != null) {
            ctx.channel().close();
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Commands sent and not answered, and those waiting for a free command id: how busy this queue is. */
    private int commandsInFlight() {
        return slots.length - freeCount + waiting.size();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (qid != 0) {
            PollingIoHandler.waitFor(commandsInFlight); // the admin queue's Async Event Requests wait for days: not counted
        }
        if (timeoutTicks > 0) {
            timeoutScan = ctx.channel().eventLoop().scheduleAtFixedRate(this::scanForTimeouts, tickMillis, tickMillis, TimeUnit.MILLISECONDS);
        }
        // ICReq (3.6.2.2): HPDA 0, MAXR2T 0 (one outstanding R2T per command)
        ctx.writeAndFlush(new Pdu.IcReq(0, 0, hdgst, ddgst, 0));
    }

    /** Submits a request; any thread. */
    void submit(Request r) {
        EventLoop loop = ctx.channel().eventLoop();
        if (loop.inEventLoop()) {
            submitInLoop(r);
        } else {
            loop.execute(() -> submitInLoop(r));
        }
    }

    private void submitInLoop(Request r) {
        if (dead) {
            r.onError.accept(lost("queue " + qid + " is disconnected"));
            return;
        }
        if (freeCount == 0) {
            waiting.add(r);
            return;
        }
        dispatch(freeCids[--freeCount], r);
    }

    /** Gives {@code r} command id {@code cid}, stamps the timeout tick and sends it. */
    private void dispatch(int cid, Request r) {
        slots[cid] = r;
        sentTick[cid] = tick;
        send(cid, r);
    }

    private void send(int cid, Request r) {
        // A response is coming: the loop keeps polling for it (and times it, on an I/O queue).
        if (qid != 0) {
            long now = System.nanoTime();
            sentAt[cid] = now;
            waitMode[cid] = PollingIoHandler.commandSent(now);
        } else {
            PollingIoHandler.touch();
        }
        int len = r.length();
        NvmeCommand cmd;
        if (r.toController && len > 0 && len <= inCapsuleMax) {
            cmd = r.command.withCid(cid).withSgl(NvmeCommand.SGL_IN_CAPSULE, len);
            write(new Pdu.CapsuleCommand(cmd, Unpooled.wrappedBuffer(r.data.duplicate())));
        } else {
            cmd = r.command.withCid(cid).withSgl(NvmeCommand.SGL_TRANSPORT, len);
            write(new Pdu.CapsuleCommand(cmd, null));
        }
    }

    /** Flushes are consolidated by the FlushConsolidationHandler in front of this queue (see NvmfBlockDevice). */
    private void write(Pdu pdu) {
        ctx.writeAndFlush(pdu, ctx.voidPromise());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Pdu pdu = (Pdu) msg;
        if (dead) {
            pdu.release(); // reset after a timeout: what the decoder still had buffered belongs to failed commands
            return;
        }
        if (pdu instanceof Pdu.CapsuleResponse r) {
            onResponse(r.completion());
        } else if (pdu instanceof Pdu.C2HData d) {
            onData(d);
        } else if (pdu instanceof Pdu.R2T r) {
            onR2t(r);
        } else if (pdu instanceof Pdu.DataDigestError e) {
            onDataDigestError(e);
        } else if (pdu instanceof Pdu.IcResp r) {
            if (r.pfv() != 0 || r.maxH2cData() < 4096 || r.cpda() > 31 || r.headerDigest() != hdgst || r.dataDigest() != ddgst) {
                fatal("unacceptable ICResp " + r);
                return;
            }
            format.initialize(hdgst, ddgst, r.cpda());
            format.maxH2cData(r.maxH2cData());
            initialized.complete(null);
        } else if (pdu instanceof Pdu.TermReq t) {
            LOG.warn("{} qid={}: controller terminated the connection (FES {}, FEI {})", name, qid, t.fes(), t.fei());
            t.release();
            ctx.close();
        } else {
            pdu.release();
        }
    }

    private Request slot(int cid) {
        return cid < slots.length ? slots[cid] : null;
    }

    private void onResponse(NvmeCompletion c) {
        Request r = slot(c.cid());
        if (r == null) {
            fatal("response for unknown command id " + c.cid());
            return;
        }
        if (r.corrupted) {
            failCorrupted(c.cid(), r);
            return;
        }
        finish(c.cid(), r, c);
    }

    private void onData(Pdu.C2HData d) {
        try {
            Request r = slot(d.cccid());
            ByteBuf data = d.data();
            int len = data.readableBytes();
            if (r == null || r.toController || d.datao() != r.received || (long) d.datao() + len > r.length()) {
                fatal("unexpected C2HData for command " + d.cccid() + " at " + d.datao() + " (+" + len + ")");
                return;
            }
            if (!r.corrupted) {
                ByteBuffer dst = r.data.duplicate();
                dst.position(dst.position() + d.datao()).limit(dst.position() + len);
                data.getBytes(data.readerIndex(), dst);
            }
            r.received += len;
            if (d.success()) {
                if (r.corrupted) {
                    failCorrupted(d.cccid(), r);
                } else {
                    finish(d.cccid(), r, new NvmeCompletion(0, 0, 0, qid, d.cccid(), 0));
                }
            }
        } finally {
            d.release();
        }
    }

    /**
     * C2HData whose data digest did not match (NVMe/TCP 1.0, 7.4.6.2): not fatal. The command fails (EIO, worth a
     * retry) once the controller has finished it; the connection and the queue's other commands go on.
     */
    private void onDataDigestError(Pdu.DataDigestError e) {
        Request r = slot(e.cccid());
        if (e.type() != PduType.C2H_DATA || r == null || r.toController || e.datao() != r.received
                || (long) e.datao() + e.datal() > r.length()) {
            fatal("unexpected C2HData (bad data digest) for command " + e.cccid() + " at " + e.datao() + " (+" + e.datal() + ")");
            return;
        }
        LOG.warn("{} qid={}: data digest error in C2HData of command id {} at offset {}; the command fails, the queue goes on",
                name, qid, e.cccid(), e.datao());
        r.received += e.datal();
        r.corrupted = true;
        if (e.success()) {
            failCorrupted(e.cccid(), r);
        }
    }

    private void failCorrupted(int cid, Request r) {
        freeSlot(cid);
        r.onError.accept(new BlockIoException(BlockIoException.EIO, "nvmf", name, 0, 0,
                "queue " + qid + ": data digest error in the data of command id " + cid + "; the command may be retried"));
    }

    private void onR2t(Pdu.R2T t) {
        Request r = slot(t.cccid());
        if (r == null || !r.toController || t.r2tl() <= 0 || t.r2to() < 0 || (long) t.r2to() + t.r2tl() > r.length()) {
            fatal("unexpected R2T for command " + t.cccid() + " " + t.r2to() + "+" + t.r2tl());
            return;
        }
        int max = format.maxH2cData();
        int end = t.r2to() + t.r2tl();
        for (int off = t.r2to(); off < end; off += max) {
            int n = Math.min(max, end - off);
            ByteBuffer part = r.data.duplicate();
            part.position(part.position() + off).limit(part.position() + n);
            write(new Pdu.H2CData(t.cccid(), t.ttag(), off, off + n == end, Unpooled.wrappedBuffer(part)));
        }
    }

    private void finish(int cid, Request r, NvmeCompletion c) {
        if (qid != 0) {
            PollingIoHandler.commandAnswered(waitMode[cid], sentAt[cid], System.nanoTime());
        }
        freeSlot(cid);
        r.onDone.accept(c);
    }

    /** Gives the command id to the next waiting request, if any. */
    private void freeSlot(int cid) {
        slots[cid] = null;
        Request next = waiting.poll();
        if (next != null) {
            dispatch(cid, next);
        } else {
            freeCids[freeCount++] = cid;
        }
    }

    private void fatal(String why) {
        LOG.warn("{} qid={}: protocol error, closing: {}", name, qid, why);
        ctx.writeAndFlush(new Pdu.TermReq(true, 0x01, 0, null)).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable t = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (t instanceof PduException e) {
            LOG.warn("{} qid={}: bad PDU from controller: {}", name, qid, e.getMessage());
            ctx.writeAndFlush(new Pdu.TermReq(true, e.fes(), e.fei(), e.headerCopy())).addListener(ChannelFutureListener.CLOSE);
        } else {
            LOG.warn("{} qid={}: closing: {}", name, qid, t.toString());
            ctx.close();
        }
    }

    /** The periodic timeout check (event loop): counts a tick, resets the queue if a command is overdue. */
    private void scanForTimeouts() {
        int now = ++tick;
        if (dead) {
            return;
        }
        for (int cid = 0; cid < slots.length; cid++) {
            Request r = slots[cid];
            // A command sent at tick t went out before tick t + 1 began: it is older than the timeout once
            // now - (t + 1) whole periods have passed. Async Event Requests wait for events, not for an answer.
            if (r != null && now - sentTick[cid] > timeoutTicks && !(qid == 0 && r.command.opcode() == NvmeOpcode.ASYNC_EVENT_REQUEST)) {
                reset(cid, r);
                return;
            }
        }
    }

    /**
     * Error recovery for an unanswered command, as Linux's nvme_tcp_timeout: close the connection before failing
     * anything, so that no C2HData still on its way can be copied into a buffer whose owner was told it failed (and
     * a command id can never be answered for the wrong command); then fail every command here. The loss of the
     * connection then runs {@code onLost}, which reconnects the controller with back-off.
     */
    private void reset(int cid, Request overdue) {
        LOG.warn("{} qid={}: command id {} (opcode 0x{}) not answered within {} ms; resetting the queue", name, qid, cid,
                Integer.toHexString(overdue.command.opcode()), timeoutMillis);
        dead = true;
        ctx.channel().close();
        BlockIoException timedOut = new BlockIoException(BlockIoException.ETIMEDOUT, "nvmf", name, 0, 0,
                "queue " + qid + ": command not answered within " + timeoutMillis + " ms; queue reset");
        slots[cid] = null;
        overdue.onError.accept(timedOut);
        failAll(lost("queue " + qid + " reset after a command timed out"));
    }

    private void failAll(BlockIoException e) {
        for (int i = 0; i < slots.length; i++) {
            Request r = slots[i];
            if (r != null) {
                slots[i] = null;
                r.onError.accept(e);
            }
        }
        Request r;
        while ((r = waiting.poll()) != null) {
            r.onError.accept(e);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        dead = true;
        PollingIoHandler.stopWaitingFor(commandsInFlight);
        if (timeoutScan != null) {
            timeoutScan.cancel(false);
        }
        BlockIoException e = lost(closing ? "queue " + qid + " closed" : "connection of queue " + qid + " lost");
        initialized.completeExceptionally(e);
        failAll(e);
        if (!closing) {
            onLost.run();
        }
    }

    private BlockIoException lost(String detail) {
        return new BlockIoException(BlockIoException.EIO, "nvmf", name, 0, 0, detail);
    }
}
