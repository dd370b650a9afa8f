package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.device.uring.HybridPolling;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * When a busy-polling loop spins: a host loop while at most two commands of its queues are in flight, not at depth;
 * a target loop holding the device reactor while nothing is in flight on it (the next command comes on its sockets),
 * not while many device I/Os are.
 */
class PollingIoHandlerTest {
    @TempDir
    Path dir;

    @Test
    void aHostLoopSpinsForACommandOrTwoWhereSpinningIsMeasuredFasterAndSleepsAtDepth() throws Exception {
        EventLoopGroup group = NettyTransport.best().newGroup(1, "polling-test", 100, null);
        try {
            AtomicInteger first = new AtomicInteger();
            AtomicInteger second = new AtomicInteger();
            IntSupplier a = first::get;
            IntSupplier b = second::get;
            onLoop(group, () -> {
                PollingIoHandler.waitFor(a);
                PollingIoHandler.waitFor(b);
                return true;
            });
            assertThat(onLoop(group, PollingIoHandler::spinPaysOnThisLoop)).as("nothing in flight: the next answer or command is near").isTrue();
            // Lone commands whose answers come in 20 us when the loop spins and 40 us when it sleeps (a RAM disk behind the target).
            first.set(1);
            teach(group, 20, 40);
            assertThat(onLoop(group, PollingIoHandler::spinPaysOnThisLoop)).as("one command, spinning measured faster").isTrue();
            second.set(1);
            assertThat(onLoop(group, PollingIoHandler::spinPaysOnThisLoop)).as("two commands over two queues").isTrue();
            second.set(31);
            assertThat(onLoop(group, PollingIoHandler::spinPaysOnThisLoop)).as("32 commands in flight").isFalse();
            onLoop(group, () -> {
                PollingIoHandler.stopWaitingFor(b);
                return true;
            });
            assertThat(onLoop(group, PollingIoHandler::spinPaysOnThisLoop)).as("the deep queue gone").isTrue();
            // The disk behind the target gets slow and spinning slows it further (a spinning vCPU on a small VM): 130 us
            // against 100 us asleep. The loop's tries of the other way notice.
            teach(group, 130, 100);
            assertThat(onLoop(group, PollingIoHandler::spinPaysOnThisLoop)).as("one command, sleeping measured faster").isFalse();
            assertThat(PollingIoHandler.spinPaysOnThisLoop()).as("off a polling loop").isNull();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** Sends and answers lone commands on the loop, each answered after spinUs or sleepUs by the way the loop waited. */
    private static void teach(EventLoopGroup group, long spinUs, long sleepUs) throws Exception {
        onLoop(group, () -> {
            long t = System.nanoTime();
            for (int i = 0; i < 30 * HybridPolling.EXPLORE_EVERY; i++) {
                t += 1_000_000;
                byte how = PollingIoHandler.commandSent(t);
                assertThat(how).isNotEqualTo(HybridPolling.NOT_ALONE);
                PollingIoHandler.commandAnswered(how, t, t + (how == HybridPolling.HYBRID ? spinUs : sleepUs) * 1000);
            }
            // The command in flight decides how the loop waits now: leave one that waits the faster way in flight (the
            // next one that is not a try of the other way).
            byte faster = spinUs < sleepUs ? HybridPolling.HYBRID : HybridPolling.SLEPT;
            for (int i = 0; i <= HybridPolling.EXPLORE_EVERY; i++) {
                t += 1_000_000;
                byte how = PollingIoHandler.commandSent(t);
                if (how == faster) {
                    return true;
                }
                PollingIoHandler.commandAnswered(how, t, t + (how == HybridPolling.HYBRID ? spinUs : sleepUs) * 1000);
            }
            throw new AssertionError("the loop never chose the faster way (" + faster + ") for a lone command");
        });
    }

    @Test
    void aTargetLoopHoldingTheDeviceReactorSpinsForTheNextCommandWhileNoDeviceIoIsInFlight() throws Exception {
        try (BlockDeviceFactory factory = BlockDeviceFactory.withDefaults()) {
            BlockDevice disk = factory.open("uring://" + dir.resolve("disk.img") + "?size_mb=8");
            EventLoopGroup group = NettyTransport.best().newGroup(1, "polling-test-target", 100, factory.loopReactor());
            try {
                disk.read(0, DmaBuffers.allocate(4096)).get(10, TimeUnit.SECONDS);
                assertThat(factory.loopReactor().inFlight()).isZero();
                assertThat(factory.loopReactor().spinsForLoneOperation()).as("nothing in flight alone").isFalse();
                assertThat(onLoop(group, PollingIoHandler::spinPaysOnThisLoop)).as("no device I/O in flight").isTrue();
            } finally {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
                disk.close();
            }
        }
    }

    private static <T> T onLoop(EventLoopGroup group, java.util.concurrent.Callable<T> task) throws Exception {
        return group.next().submit(task).get(10, TimeUnit.SECONDS);
    }
}
