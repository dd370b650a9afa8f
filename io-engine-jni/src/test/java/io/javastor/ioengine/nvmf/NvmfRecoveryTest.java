package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.nexus.EngineChildDevices;
import io.javastor.ioengine.nexus.Nexus;
import io.javastor.ioengine.nexus.NexusOptions;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.nvmf.tgt.NvmfTargetOptions;
import io.javastor.ioengine.pool.PoolRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Host error recovery against the real target through a {@link PduProxy} that swallows, holds back or corrupts chosen
 * PDUs: command timeouts reset the queue and reconnect; a bad data digest fails one command and the queue goes on.
 */
class NvmfRecoveryTest {
    static final String NQN = "nqn.2019-05.io.javastor:recovery-test";
    static final String HOST = "nqn.2019-05.io.javastor:node-name:recovery";
    static final Duration TIMEOUT = Duration.ofSeconds(1);
    static final int OPC_READ = 0x02;

    BlockDeviceFactory factory;
    BlockDevice disk;
    NvmfTarget target;
    PduProxy proxy;

    @BeforeEach
    void start() throws IOException {
        factory = BlockDeviceFactory.withDefaults();
        disk = factory.open("malloc:///nvmf-recovery?size_mb=16");
        target = new NvmfTarget(NvmfTargetOptions.defaults().withEventLoopThreads(2));
        int port = target.start("127.0.0.1", 0).getPort();
        target.addSubsystem(NQN, disk, "REC1", "Javastor recovery", Set.of());
        proxy = new PduProxy(port);
    }

    @AfterEach
    void stop() throws IOException {
        proxy.close();
        target.close();
        disk.close();
        factory.close();
    }

    private NvmfBlockDevice connect(NvmfHostOptions o) {
        return NvmfBlockDevice.connect("nvmf://127.0.0.1:" + proxy.port() + "/" + NQN, o);
    }

    private static NvmfHostOptions options() {
        // Reads of 64 KiB come back as C2HData; the keep-alive stays out of the way (10 s KATO).
        return NvmfHostOptions.defaults(HOST).withQueues(1, 32).withIoTimeout(TIMEOUT).withReconnectDeadline(Duration.ofSeconds(60));
    }

    private static ByteBuffer filled(int len, int value) {
        ByteBuffer b = DmaBuffers.allocate(len);
        for (int i = 0; i < len; i++) {
            b.put(i, (byte) value);
        }
        return b;
    }

    /** A read command (CapsuleCmd, host to controller) of {@code lba}. */
    private static boolean isReadOf(long lba, boolean toHost, byte[] pdu) {
        return !toHost && PduProxy.type(pdu) == PduProxy.CAPSULE_CMD && PduProxy.opcode(pdu) == OPC_READ && PduProxy.cdw10(pdu) == lba;
    }

    /** Waits until a read of {@code len} bytes at {@code offset} succeeds (the host may still be reconnecting) and returns it. */
    private static ByteBuffer readWhenBack(NvmfBlockDevice dev, long offset, int len) {
        AtomicReference<ByteBuffer> got = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            ByteBuffer b = DmaBuffers.allocate(len);
            boolean ok = dev.read(offset, b).handle((v, t) -> t == null).get(30, TimeUnit.SECONDS);
            if (ok) {
                got.set(b);
            }
            return ok;
        });
        return got.get();
    }

    @Test
    void unansweredReadResetsTheQueueClosingTheConnectionBeforeFailingAndTheHostReconnects() {
        int bs = disk.blockSize();
        long lba = 100;
        disk.write(lba * bs, filled(65536, 0x42)).join();
        AtomicBoolean armed = new AtomicBoolean(true);
        AtomicReference<PduProxy.Link> swallowedOn = new AtomicReference<>();
        proxy.rule((link, toHost, pdu) -> {
            if (isReadOf(lba, toHost, pdu) && armed.compareAndSet(true, false)) {
                swallowedOn.set(link);
                return null; // the controller never sees it
            }
            return pdu;
        });
        // No keep-alive: the check below blocks the host's only socket thread, and the target's keep-alive expiry
        // would then close the connection itself and hide a host that closes too late.
        try (NvmfBlockDevice dev = connect(options().withKeepAlive(Duration.ZERO))) {
            int linksBefore = proxy.links().size();
            ByteBuffer dst = DmaBuffers.allocate(65536);
            long t0 = System.nanoTime();
            CompletableFuture<Void> read = dev.read(lba * bs, dst);
            AtomicReference<Boolean> closedBeforeFailure = new AtomicReference<>();
            AtomicReference<Long> failedAfterNanos = new AtomicReference<>();
            CompletableFuture<Void> checked = read.handle((v, t) -> {
                failedAfterNanos.set(System.nanoTime() - t0);
                // Runs where the failure is delivered (the queue's event loop). Had the host not closed the connection
                // yet, it could not do so while this blocks, and the wait would end false.
                try {
                    closedBeforeFailure.set(swallowedOn.get() != null && swallowedOn.get().hostClosed.await(20, TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return null;
            });
            assertThatThrownBy(() -> read.get(TIMEOUT.toSeconds() + 30, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(BlockIoException.class);
            checked.join();
            BlockIoException e = BlockIoException.unwrap(read.handle((v, t) -> t).join());
            assertThat(e.errno()).isEqualTo(BlockIoException.ETIMEDOUT);
            assertThat(e.getMessage()).contains("not answered within 1000 ms");
            assertThat(Duration.ofNanos(failedAfterNanos.get())).as("failed no earlier than the timeout").isGreaterThanOrEqualTo(TIMEOUT)
                    .as("and within timeout + slack").isLessThan(TIMEOUT.plusSeconds(15));
            assertThat(closedBeforeFailure.get()).as("the connection was closed before the failure was delivered").isTrue();

            // The reconnect path brings a new association (new admin and I/O connections) and I/O works again.
            ByteBuffer back = readWhenBack(dev, lba * bs, 65536);
            assertThat(back).isEqualTo(filled(65536, 0x42));
            assertThat(proxy.links().size()).as("new connections after the reset").isGreaterThanOrEqualTo(linksBefore + 2);
        }
    }

    @Test
    void dataArrivingAfterTheTimeoutNeverReachesTheCallersBuffer() {
        int bs = disk.blockSize();
        long lba = 200;
        disk.write(lba * bs, filled(65536, 0x11)).join();
        AtomicReference<PduProxy.Link> heldOn = new AtomicReference<>();
        List<byte[]> held = holdBackTheAnswerToTheFirstReadOf(lba, heldOn);
        try (NvmfBlockDevice dev = connect(options())) {
            ByteBuffer dst = filled(65536, 0x5A);
            CompletableFuture<Void> read = dev.read(lba * bs, dst);
            assertThatThrownBy(() -> read.get(TIMEOUT.toSeconds() + 30, TimeUnit.SECONDS)).hasCauseInstanceOf(BlockIoException.class);
            assertThat(held).as("the target's answer was held back").isNotEmpty();
            held.forEach(heldOn.get()::sendToHost); // late: the host has given up on it

            // Whatever the host does with the late answer happens before it answers the next read on that connection.
            ByteBuffer other = readWhenBack(dev, 0, 4096);
            assertThat(other).isNotNull();
            assertThat(dst).as("the failed read's buffer is untouched").isEqualTo(filled(65536, 0x5A));
        }
    }

    /**
     * Lets the first read of {@code lba} reach the controller but keeps its answer (C2HData and response) from the host;
     * returns the held PDUs (sent later, or never, by the test) and sets {@code heldOn} to the connection.
     */
    private List<byte[]> holdBackTheAnswerToTheFirstReadOf(long lba, AtomicReference<PduProxy.Link> heldOn) {
        AtomicBoolean armed = new AtomicBoolean(true);
        AtomicInteger heldCid = new AtomicInteger(-1);
        List<byte[]> held = new CopyOnWriteArrayList<>();
        proxy.rule((link, toHost, pdu) -> {
            if (isReadOf(lba, toHost, pdu) && armed.compareAndSet(true, false)) {
                heldCid.set(PduProxy.commandId(pdu));
                heldOn.set(link);
            } else if (toHost && link == heldOn.get() && (PduProxy.type(pdu) == PduProxy.C2H_DATA
                    || PduProxy.type(pdu) == PduProxy.CAPSULE_RESP) && PduProxy.cccid(pdu) == heldCid.get()) {
                held.add(pdu); // the controller answered; the host gets it only after its timeout
                return null;
            }
            return pdu;
        });
        return held;
    }

    /**
     * A nexus whose remote child (the io-engine's own {@link EngineChildDevices} initiator) answers a read too late: the
     * initiator's timeout (half the nexus's) resets the queue, closing the connection before the read fails, so the
     * replica's late data can never land in the buffer the nexus handed back to its user.
     */
    @Test
    void aLateReadAnswerFromANexusRemoteChildNeverReachesTheBufferTheNexusGaveBack() throws InterruptedException {
        Duration nexusIoTimeout = Duration.ofSeconds(2);
        int bs = disk.blockSize();
        long lba = 64;
        disk.write(lba * bs, filled(4096, 0x11)).join();
        AtomicReference<PduProxy.Link> heldOn = new AtomicReference<>();
        List<byte[]> held = holdBackTheAnswerToTheFirstReadOf(lba, heldOn);
        String child = "nvmf://127.0.0.1:" + proxy.port() + "/" + NQN;
        Nexus nexus = Nexus.create(UUID.randomUUID(), disk.size(), List.of(child),
                new EngineChildDevices(new PoolRegistry(factory, 2.5, new io.javastor.ioengine.pool.DiskPolicy(java.util.List.of(), 0)) /* no pools: remote children only */,
                        io.javastor.ioengine.reservation.ReservationRegistry.inMemory(), HOST, nexusIoTimeout),
                NexusOptions.defaults().withSegmentSize(64 * 1024).withIoTimeout(nexusIoTimeout));
        try {
            ByteBuffer dst = filled(4096, 0x5A);
            CompletableFuture<Void> read = nexus.read(lba * bs, dst);
            assertThatThrownBy(() -> read.get(nexusIoTimeout.toSeconds() + 30, TimeUnit.SECONDS)).hasCauseInstanceOf(BlockIoException.class);
            // The initiator's own timeout fired first: it reset the queue, and a reset closes the connection before it
            // fails anything (the test above). Had the nexus's timer fired first, the message would be the nexus's
            // "no answer within 2000 ms" and the connection would still be open.
            assertThat(BlockIoException.unwrap(read.handle((v, t) -> t).join()).getMessage())
                    .contains("command not answered within 1000 ms; queue reset");
            assertThat(held).as("the replica's answer was held back").isNotEmpty();
            assertThat(heldOn.get().hostClosed.await(20, TimeUnit.SECONDS)).as("the child's connection is closed").isTrue();
            held.forEach(heldOn.get()::sendToHost); // late: nobody listens on that connection any more
            assertThat(dst).as("the failed read's buffer is untouched").isEqualTo(filled(4096, 0x5A));
        } finally {
            nexus.destroy();
        }
    }

    @Test
    void badDataDigestInC2hDataFailsThatReadOnlyAndTheQueueGoesOn() {
        int bs = disk.blockSize();
        long lba = 300;
        disk.write(lba * bs, filled(65536, 0x21)).join();
        AtomicBoolean armed = new AtomicBoolean(true);
        AtomicInteger readCid = new AtomicInteger(-1);
        proxy.rule((link, toHost, pdu) -> {
            if (isReadOf(lba, toHost, pdu)) {
                readCid.set(PduProxy.commandId(pdu));
            } else if (toHost && PduProxy.type(pdu) == PduProxy.C2H_DATA && PduProxy.cccid(pdu) == readCid.get()
                    && armed.compareAndSet(true, false)) {
                byte[] bad = pdu.clone();
                bad[pdu[3] & 0xFF] ^= 0x01; // first data byte (at PDO): the data digest no longer matches
                return bad;
            }
            return pdu;
        });
        try (NvmfBlockDevice dev = connect(options().withDigests(false, true))) {
            int links = proxy.links().size();
            int cntlid = dev.controllerId();
            ByteBuffer dst = DmaBuffers.allocate(65536);
            CompletableFuture<Void> read = dev.read(lba * bs, dst);
            assertThatThrownBy(() -> read.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(BlockIoException.class)
                    .hasMessageContaining("data digest error");
            assertThat(armed.get()).isFalse();
            ByteBuffer again = DmaBuffers.allocate(65536);
            dev.read(lba * bs, again).orTimeout(30, TimeUnit.SECONDS).join();
            assertThat(again).isEqualTo(filled(65536, 0x21));
            assertThat(proxy.links().size()).as("no new connection").isEqualTo(links);
            assertThat(proxy.links()).allSatisfy(l -> assertThat(l.hostClosed.getCount()).isEqualTo(1));
            assertThat(dev.controllerId()).isEqualTo(cntlid);
        }
    }

    @Test
    void unansweredKeepAliveResetsTheAdminQueueAndTheHostReconnects() {
        AtomicBoolean armed = new AtomicBoolean(true);
        proxy.rule((link, toHost, pdu) -> {
            if (!toHost && PduProxy.type(pdu) == PduProxy.CAPSULE_CMD && PduProxy.opcode(pdu) == 0x18 && armed.compareAndSet(true, false)) {
                return null;
            }
            return pdu;
        });
        // Keep-alives every second; the first is swallowed, so the admin queue resets after the 1 s timeout.
        try (NvmfBlockDevice dev = connect(options().withKeepAlive(Duration.ofSeconds(2)))) {
            int linksBefore = proxy.links().size();
            await().atMost(Duration.ofSeconds(60)).until(() -> !armed.get() && proxy.links().size() >= linksBefore + 2);
            disk.write(0, filled(4096, 0x77)).join();
            assertThat(readWhenBack(dev, 0, 4096)).isEqualTo(filled(4096, 0x77));
        }
    }
}
