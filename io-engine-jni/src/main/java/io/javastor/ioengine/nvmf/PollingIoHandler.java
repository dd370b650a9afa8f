package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.device.uring.BusyGauge;
import io.javastor.ioengine.device.uring.HybridPolling;
import io.javastor.ioengine.device.uring.SubmissionBatch;
import io.javastor.ioengine.device.uring.UringReactor;
import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;

/**
 * A Netty I/O handler (epoll or NIO underneath) that busy-polls while its loop serves I/O, SPDK-style:
 * for {@code spinNanos} after the last I/O it started or completed (see {@link #touch()}) it polls the
 * sockets without sleeping, so the answer, and the next command, are seen without a wake-up; after that
 * it sleeps in epoll as usual. An idle loop, or one busy with anything but I/O (connection set-up,
 * admin commands, a flood of bad PDUs), costs no CPU spinning.
 *
 * <p>Given a {@link UringReactor} (a shared one: {@code BlockDeviceFactory.loopReactor()}), the device I/O the loop
 * starts goes to it ({@link UringReactor#useForThisThread}) and the loop also takes over reaping its completions: device
 * completions then run on the loop itself, with no hop from the io_uring poller thread. While it spins it
 * polls the completion queue; when it sleeps (epoll) with I/O in flight, the ring's eventfd, armed just
 * before, wakes it on the next completion; so the path of one I/O crosses no other thread. The io_uring
 * poller thread parks meanwhile; it takes over again after {@value #RELEASE_IDLE_NANOS} ns without
 * I/O of its own (or at once on the NIO transport, which cannot sleep on the eventfd).
 *
 * <p>Code on the loop reports activity with {@link #touch()}; both calls are cheap and thread-confined.
 */
public final class PollingIoHandler implements IoHandler {
    private static final ThreadLocal<PollingIoHandler> CURRENT = new ThreadLocal<>();
    private static final boolean YIELD = !Boolean.getBoolean("javastor.nvmf.spinNoYield");

    /**
     * Spin only while at most this many device I/Os (on a host loop: commands) are in flight. With one or two, a
     * sleeping loop's wake-up would be a large part of the next I/O's latency; with more, completions come often enough
     * that sleeping in epoll (woken by the ring's eventfd, or the socket) costs little, and the CPU a spinning loop
     * burns is taken from the other threads of the same I/Os (the host's, the kernel's TCP work) on a small machine.
     * Measured on 2 cores (docs/benchmarks.md, nvmf run 5): QD32 CPU per I/O 13-14.5 us -> 11-13 us with the same
     * IOPS; QD1 latency unchanged.
     */
    private static final int SPIN_MAX_IN_FLIGHT = Integer.getInteger("javastor.nvmf.spinMaxInFlight", 2);
    /** The commands in flight of the host queues served by this loop (see {@link #waitFor}); thread-confined. */
    private final java.util.List<java.util.function.IntSupplier> awaited = new java.util.ArrayList<>();
    /** A host loop's (no reactor) timing of its lone commands: spin for the answer or sleep in epoll, the faster way. */
    private final HybridPolling commands;
    private final IoHandler delegate;
    private final long spinNanos;
    private final UringReactor reactor;
    /** Last I/O started here ({@link #touch()}) or completion reaped here: spinning lasts spinNanos from it. */
    private long lastIo;
    /** Last I/O started by this loop itself (reaped completions of others' I/O do not count). */
    private long lastOwnIo;
    /** Holds the reactor's polling (see {@link UringReactor#acquirePolling()}). */
    private boolean holding;
    private IoRegistration eventFdRegistration;
    private int eventFdWakes;
    /** Holding the reactor but idle (nothing in flight) this long: give it back to its poller thread. */
    private static final long RELEASE_IDLE_NANOS = 50_000_000L;
    private final NonBlocking nonBlocking = new NonBlocking();
    /** Whether this loop is saturated (then it batches each turn's device submissions); thread-confined. */
    private final BusyGauge loopBusy = new BusyGauge();

    private PollingIoHandler(IoHandler delegate, long spinNanos, UringReactor reactor) {
        this.delegate = delegate;
        this.spinNanos = spinNanos;
        this.reactor = reactor;
        this.commands = reactor == null ? new HybridPolling(spinNanos) : null;
    }

    /** Wraps {@code factory}'s handlers; spinMicros 0 disables spinning (then this only adds the reactor hook when idle: nothing). */
    public static IoHandlerFactory factory(IoHandlerFactory factory, long spinMicros, UringReactor reactor) {
        return new IoHandlerFactory() {
            @Override
            public IoHandler newHandler(io.netty.util.concurrent.ThreadAwareExecutor executor) {
                return new PollingIoHandler(factory.newHandler(executor), spinMicros * 1000, reactor);
            }

            @Override
            public boolean isChangingThreadSupported() {
                return factory.isChangingThreadSupported();
            }
        };
    }

    /**
     * Called on a loop thread when it starts an I/O (a host sends a command, a target submits to its device): the
     * loop then spins for the answer, and for the next I/O after it. No-op on other threads.
     */
    public static void touch() {
        PollingIoHandler h = CURRENT.get();
        if (h != null) {
            long now = System.nanoTime();
            h.lastIo = now;
            h.lastOwnIo = now;
        }
    }

    /**
     * Called on a loop thread by a queue whose answers this loop waits for (a host's I/O queue): its count of commands
     * in flight joins the spin decision, so the loop spins for a command or two (QD1: the answer is seen without a
     * wake-up) and sleeps in epoll at depth, where answers come often and a spinning core would take the CPU the target
     * and the kernel's TCP work need. Undone by {@link #stopWaitingFor}. No-op on other threads.
     */
    public static void waitFor(java.util.function.IntSupplier commandsInFlight) {
        PollingIoHandler h = CURRENT.get();
        if (h != null) {
            h.awaited.add(commandsInFlight);
        }
    }

    /**
     * A host queue on the calling loop sent a command at {@code now}: returns how the loop waits for its answer (pass it
     * back to {@link #commandAnswered}). A lone command's answer is timed, so the loop learns whether spinning for it
     * beats sleeping: it does when the answer comes from memory or a fast device, not when a slow disk is behind the
     * target and the spinning vCPU takes the host's CPU from that disk's I/O (measured on KVM, docs/benchmarks.md).
     * Counts as activity, as {@link #touch()} does.
     */
    public static byte commandSent(long now) {
        PollingIoHandler h = CURRENT.get();
        if (h == null) {
            return HybridPolling.NOT_ALONE;
        }
        h.lastIo = now;
        h.lastOwnIo = now;
        return h.commands == null ? HybridPolling.NOT_ALONE : h.commands.submitted(now, h.awaitedInFlight() == 1);
    }

    /** The answer to a command sent with {@code how} at {@code sentAt} came at {@code now}. */
    public static void commandAnswered(byte how, long sentAt, long now) {
        if (how == HybridPolling.NOT_ALONE) {
            return;
        }
        PollingIoHandler h = CURRENT.get();
        if (h != null && h.commands != null) {
            h.commands.completedAlone(how, sentAt, now);
        }
    }

    public static void stopWaitingFor(java.util.function.IntSupplier commandsInFlight) {
        PollingIoHandler h = CURRENT.get();
        if (h != null) {
            h.awaited.remove(commandsInFlight);
        }
    }

    @Override
    public void initialize() {
        // On the loop thread, before its first task: a channel registered by that task finds this handler.
        CURRENT.set(this);
        if (reactor != null) {
            UringReactor.useForThisThread(reactor); // this loop's device I/O goes to the ring it reaps
        }
        delegate.initialize();
    }

    @Override
    public int run(IoHandlerContext context) {
        long now = System.nanoTime();
        int work = 0;
        if (reactor != null) {
            if (!holding) {
                if (now - lastOwnIo < Math.max(spinNanos, 1_000_000L) && reactor.acquirePolling()) {
                    holding = true;
                    registerEventFd();
                }
            } else if (now - lastOwnIo > RELEASE_IDLE_NANOS) {
                // No I/O of this loop's own for a while: do not go on serving others' I/O.
                work = reactor.poll();
                releaseReactor();
            }
            if (holding) {
                work += reactor.poll();
            }
            if (work > 0) {
                lastIo = now; // completions answered: the host's next command is on its way
            }
        }
        boolean spin = spinNanos > 0 && now - lastIo < spinNanos && spinPays();
        boolean block = !spin && context.canBlock();
        boolean armed = false;
        if (holding && block) {
            if (eventFdRegistration == null) {
                // Cannot sleep on the reactor's completions (NIO): the poller thread takes over.
                releaseReactor();
            } else if (reactor.armCompletionEvents(true)) {
                block = false; // completions arrived meanwhile: poll them first
                reactor.armCompletionEvents(false);
            } else {
                armed = true; // sleep in epoll; a completion wakes us through the eventfd
            }
        }
        eventFdWakes = 0;
        int n;
        if (loopBusy.saturated(now)) {
            // Saturated: the device I/O of every command read in this turn enters the kernel in one io_uring_enter
            // at the end of the turn (otherwise each goes at once: see BusyGauge). Nothing in the turn waits for
            // that I/O, and the wait for events comes before any submission.
            try (SubmissionBatch commandsOfThisTurn = SubmissionBatch.open()) {
                n = delegate.run(block ? context : nonBlocking.of(context));
            }
        } else {
            n = delegate.run(block ? context : nonBlocking.of(context));
        }
        if (armed) {
            reactor.armCompletionEvents(false);
        }
        if (eventFdWakes > 0) {
            lastIo = System.nanoTime(); // completions are waiting: reap them on the next turn, without sleeping
        } else if (n == 0 && work == 0 && !block && YIELD && context.canBlock()) {
            // Spinning by choice and nothing came: let another runnable thread of this CPU go first (on a busy
            // machine it may be the very thread we wait for); with nothing else runnable this returns at once.
            Thread.yield();
        }
        return n + work;
    }

    /** Whether the calling loop thread's handler would spin now, given recent activity; null off a polling loop (tests). */
    static Boolean spinPaysOnThisLoop() {
        PollingIoHandler h = CURRENT.get();
        return h == null ? null : h.spinPays();
    }

    /**
     * Whether what this loop waits for is worth spinning for. A target loop with no device I/O in flight waits for the
     * next command on its sockets: spin. With one device I/O in flight the reactor's measured choice decides
     * ({@link UringReactor#spinsForLoneOperation()}): on some virtual machines a spinning vCPU slows its own disk I/O
     * down by more than a wake-up costs (docs/benchmarks.md, nvmf), on others spinning wins, so both ways are timed.
     * Up to {@value #SPIN_MAX_IN_FLIGHT} in flight: whichever way lone operations are faster. A host loop decides the
     * same way for its commands, with its own timing of them ({@link #commandSent}).
     */
    private boolean spinPays() {
        if (reactor != null) {
            int n = reactor.inFlight();
            if (n == 0) {
                return true;
            }
            return n == 1 ? reactor.spinsForLoneOperation() : n <= SPIN_MAX_IN_FLIGHT && reactor.spinsForLoneOperations();
        }
        int n = awaitedInFlight();
        if (n == 0) {
            return true;
        }
        return n == 1 ? commands.loneOperationSpins() : n <= SPIN_MAX_IN_FLIGHT && commands.spinning();
    }

    private int awaitedInFlight() {
        int n = 0;
        for (int i = 0; i < awaited.size(); i++) {
            n += awaited.get(i).getAsInt();
        }
        return n;
    }

    private void registerEventFd() {
        if (eventFdRegistration != null || !delegate.isCompatible(EventFdHandle.class)) {
            return;
        }
        int fd = reactor.completionEventFd();
        if (fd < 0) {
            return;
        }
        try {
            IoRegistration r = delegate.register(new EventFdHandle(new FileDescriptor(fd)));
            r.submit(EpollIoOps.EPOLLIN);
            eventFdRegistration = r;
        } catch (Exception | LinkageError e) {
            eventFdRegistration = null; // spin-only mode
        }
    }

    private void releaseReactor() {
        if (eventFdRegistration != null) {
            eventFdRegistration.cancel();
            eventFdRegistration = null;
        }
        reactor.releasePolling();
        holding = false;
    }

    /** The reactor's completion eventfd in this loop's epoll set: readable means completions to reap. */
    private final class EventFdHandle implements EpollIoHandle {
        private final FileDescriptor fd;
        private final java.nio.ByteBuffer scratch = java.nio.ByteBuffer.allocateDirect(8);

        EventFdHandle(FileDescriptor fd) {
            this.fd = fd;
        }

        @Override
        public FileDescriptor fd() {
            return fd;
        }

        @Override
        public void handle(IoRegistration registration, io.netty.channel.IoEvent ioEvent) {
            try {
                fd.read(scratch, 0, 8); // reset the counter (non-blocking)
            } catch (java.io.IOException e) {
                // EAGAIN: already drained
            }
            eventFdWakes++;
        }

        @Override
        public void close() {
            // the reactor owns the fd
        }
    }

    @Override
    public void prepareToDestroy() {
        if (holding) {
            releaseReactor();
        }
        delegate.prepareToDestroy();
    }

    @Override
    public void destroy() {
        if (holding) {
            releaseReactor();
        }
        delegate.destroy();
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
        return delegate.register(handle);
    }

    @Override
    public void wakeup() {
        delegate.wakeup();
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return delegate.isCompatible(handleType);
    }

    /** The loop's context, except that it may not block (epoll_wait with a zero timeout). */
    private static final class NonBlocking implements IoHandlerContext {
        private IoHandlerContext inner;

        IoHandlerContext of(IoHandlerContext c) {
            inner = c;
            return this;
        }

        @Override
        public boolean canBlock() {
            return false;
        }

        @Override
        public long delayNanos(long currentTimeNanos) {
            return 0;
        }

        @Override
        public long deadlineNanos() {
            return inner.deadlineNanos();
        }

        @Override
        public void reportActiveIoTime(long activeNanos) {
            inner.reportActiveIoTime(activeNanos);
        }

        @Override
        public boolean shouldReportActiveIoTime() {
            return inner.shouldReportActiveIoTime();
        }
    }
}
