package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.DmaBuffers;
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
    void aHostLoopSpinsForACommandOrTwoAndSleepsAtDepth() throws Exception {
        EventLoopGroup group = NettyTransport.best().newGroup(1, "polling-test", 100, null);
        try {
            AtomicInteger first = new AtomicInteger();
            AtomicInteger second = new AtomicInteger();
            IntSupplier a = first::get;
            IntSupplier b = second::get;
            assertThat(onLoop(group, () -> {
                PollingIoHandler.waitFor(a);
                PollingIoHandler.waitFor(b);
                return true;
            })).isTrue();
            assertThat(onLoop(group, PollingIoHandler::spinPaysOnThisLoop)).as("nothing in flight").isTrue();
            first.set(1);
            second.set(1);
            assertThat(onLoop(group, PollingIoHandler::spinPaysOnThisLoop)).as("two commands in flight over two queues").isTrue();
            second.set(31);
            assertThat(onLoop(group, PollingIoHandler::spinPaysOnThisLoop)).as("32 commands in flight").isFalse();
            onLoop(group, () -> {
                PollingIoHandler.stopWaitingFor(b);
                return true;
            });
            assertThat(onLoop(group, PollingIoHandler::spinPaysOnThisLoop)).as("the deep queue gone").isTrue();
            assertThat(PollingIoHandler.spinPaysOnThisLoop()).as("off a polling loop").isNull();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void aTargetLoopHoldingTheDeviceReactorSpinsForTheNextCommandWhileNoDeviceIoIsInFlight() throws Exception {
        try (BlockDeviceFactory factory = BlockDeviceFactory.withDefaults()) {
            BlockDevice disk = factory.open("uring://" + dir.resolve("disk.img") + "?size_mb=8");
            EventLoopGroup group = NettyTransport.best().newGroup(1, "polling-test-target", 100, factory.reactor());
            try {
                disk.read(0, DmaBuffers.allocate(4096)).get(10, TimeUnit.SECONDS);
                assertThat(factory.reactor().inFlight()).isZero();
                assertThat(factory.reactor().spinsForLoneOperation()).as("nothing in flight alone").isFalse();
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
