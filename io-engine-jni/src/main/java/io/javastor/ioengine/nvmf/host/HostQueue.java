package io.javastor.ioengine.nvmf.host;

import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.nvmf.pdu.NvmeCommand;
import io.javastor.ioengine.nvmf.pdu.NvmeCompletion;
import io.javastor.ioengine.nvmf.pdu.Pdu;
import io.javastor.ioengine.nvmf.pdu.PduException;
import io.javastor.ioengine.nvmf.pdu.PduFormat;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One host-side NVMe/TCP queue (one connection). Confined to its event loop: requests submitted from other
 * threads hop there. Command ids index a fixed table of {@code size} slots; requests beyond that wait in order.
 * Completion callbacks run on the event loop.
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
    private ChannelHandlerContext ctx;
    final CompletableFuture<Void> initialized = new CompletableFuture<>();
    private final Runnable onLost;
    private volatile boolean closing;
    private boolean inRead;
    private boolean flushScheduled;
    private boolean dead;
    private int inCapsuleMax;
    private final Runnable flushTask = () -> {
        flushScheduled = false;
        ctx.flush();
    };

    HostQueue(int qid, String name, int size, PduFormat format, boolean hdgst, boolean ddgst, int inCapsuleMax, Runnable onLost) {
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

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
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
        int cid = freeCids[--freeCount];
        slots[cid] = r;
        send(cid, r);
    }

    private void send(int cid, Request r) {
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

    private void write(Pdu pdu) {
        ctx.write(pdu, ctx.voidPromise());
        if (!inRead && !flushScheduled) {
            flushScheduled = true;
            ctx.channel().eventLoop().execute(flushTask);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        inRead = true;
        Pdu pdu = (Pdu) msg;
        if (pdu instanceof Pdu.CapsuleResponse r) {
            onResponse(r.completion());
        } else if (pdu instanceof Pdu.C2HData d) {
            onData(d);
        } else if (pdu instanceof Pdu.R2T r) {
            onR2t(r);
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

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        inRead = false;
        ctx.flush();
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
            ByteBuffer dst = r.data.duplicate();
            dst.position(dst.position() + d.datao()).limit(dst.position() + len);
            data.getBytes(data.readerIndex(), dst);
            r.received += len;
            if (d.success()) {
                finish(d.cccid(), r, new NvmeCompletion(0, 0, 0, qid, d.cccid(), 0));
            }
        } finally {
            d.release();
        }
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
        slots[cid] = null;
        Request next = waiting.poll();
        if (next != null) {
            slots[cid] = next;
            send(cid, next);
        } else {
            freeCids[freeCount++] = cid;
        }
        r.onDone.accept(c);
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

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        dead = true;
        BlockIoException e = lost(closing ? "queue " + qid + " closed" : "connection of queue " + qid + " lost");
        initialized.completeExceptionally(e);
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
        if (!closing) {
            onLost.run();
        }
    }

    private BlockIoException lost(String detail) {
        return new BlockIoException(BlockIoException.EIO, "nvmf", name, 0, 0, detail);
    }
}
