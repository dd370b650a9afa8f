package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.nexus.EngineChildDevices;
import io.javastor.ioengine.nexus.Nexus;
import io.javastor.ioengine.nexus.NexusOptions;
import io.javastor.ioengine.nvmf.target.NvmfTarget;
import io.javastor.ioengine.nvmf.target.NvmfTargetOptions;
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

/**
 * A nexus whose remote child (the io-engine's own {@link EngineChildDevices} initiator, through a {@link PduProxy})
 * answers a read too late: the initiator's timeout (half the nexus's) resets the queue, closing the connection before
 * the read fails, so the replica's late data can never land in the buffer the nexus handed back to its user.
 */
class NexusRemoteChildLateDataTest {
    static final String NQN = "nqn.2019-05.io.javastor:late-data-test";
    static final String HOST = "nqn.2019-05.io.javastor:node-name:late-data";
    static final Duration NEXUS_IO_TIMEOUT = Duration.ofSeconds(2);
    static final int OPC_READ = 0x02;
    static final long SIZE = 16L << 20;

    BlockDeviceFactory factory;
    BlockDevice disk;
    NvmfTarget target;
    PduProxy proxy;
    PoolRegistry pools;
    Nexus nexus;

    @BeforeEach
    void start() throws IOException {
        factory = BlockDeviceFactory.withDefaults();
        disk = factory.open("malloc:///late-data?size_mb=16");
        target = new NvmfTarget(NvmfTargetOptions.defaults().withEventLoopThreads(2));
        int port = target.start("127.0.0.1", 0).getPort();
        target.addSubsystem(NQN, disk, "LATE1", "Javastor late data", Set.of());
        proxy = new PduProxy(port);
        pools = new PoolRegistry(factory, 2.5);
    }

    @AfterEach
    void stop() throws IOException {
        if (nexus != null) {
            nexus.destroy();
        }
        proxy.close();
        target.close();
        disk.close();
        factory.close();
    }

    @Test
    void aLateReadAnswerFromARemoteChildNeverReachesTheBufferTheNexusGaveBack() throws InterruptedException {
        int bs = disk.blockSize();
        long lba = 64;
        ByteBuffer content = DmaBuffers.allocate(4096);
        for (int i = 0; i < 4096; i++) {
            content.put(i, (byte) 0x11);
        }
        disk.write(lba * bs, content).join();
        AtomicBoolean armed = new AtomicBoolean(true);
        AtomicInteger heldCid = new AtomicInteger(-1);
        AtomicReference<PduProxy.Link> heldOn = new AtomicReference<>();
        List<byte[]> held = new CopyOnWriteArrayList<>();
        proxy.rule((link, toHost, pdu) -> {
            if (!toHost && PduProxy.type(pdu) == PduProxy.CAPSULE_CMD && PduProxy.opcode(pdu) == OPC_READ
                    && PduProxy.cdw10(pdu) == lba && armed.compareAndSet(true, false)) {
                heldCid.set(PduProxy.commandId(pdu));
                heldOn.set(link);
            } else if (toHost && link == heldOn.get() && (PduProxy.type(pdu) == PduProxy.C2H_DATA
                    || PduProxy.type(pdu) == PduProxy.CAPSULE_RESP) && PduProxy.cccid(pdu) == heldCid.get()) {
                held.add(pdu); // the replica answered; the initiator gets it only after the nexus has given up
                return null;
            }
            return pdu;
        });
        String child = "nvmf://127.0.0.1:" + proxy.port() + "/" + NQN;
        nexus = Nexus.create(UUID.randomUUID(), SIZE, List.of(child), new EngineChildDevices(pools, HOST, NEXUS_IO_TIMEOUT),
                NexusOptions.defaults().withSegmentSize(64 * 1024).withIoTimeout(NEXUS_IO_TIMEOUT));

        ByteBuffer dst = DmaBuffers.allocate(4096);
        for (int i = 0; i < 4096; i++) {
            dst.put(i, (byte) 0x5A);
        }
        CompletableFuture<Void> read = nexus.read(lba * bs, dst);
        assertThatThrownBy(() -> read.get(NEXUS_IO_TIMEOUT.toSeconds() + 30, TimeUnit.SECONDS)).hasCauseInstanceOf(BlockIoException.class);
        // The initiator's own timeout (half the nexus's) fired first: it reset the queue, and a reset closes the
        // connection before it fails anything (NvmfRecoveryTest). Had the nexus's timer fired first, the message would
        // be the nexus's "no answer within 2000 ms" and the connection would still be open.
        assertThat(BlockIoException.unwrap(read.handle((v, t) -> t).join()).getMessage())
                .contains("command not answered within 1000 ms; queue reset");
        assertThat(held).as("the replica's answer was held back").isNotEmpty();
        assertThat(heldOn.get().hostClosed.await(20, TimeUnit.SECONDS)).as("the child's connection is closed").isTrue();
        held.forEach(heldOn.get()::sendToHost); // late: nobody listens on that connection any more
        for (int i = 0; i < 4096; i++) {
            assertThat(dst.get(i)).as("byte %d of the failed read's buffer", i).isEqualTo((byte) 0x5A);
        }
    }
}
