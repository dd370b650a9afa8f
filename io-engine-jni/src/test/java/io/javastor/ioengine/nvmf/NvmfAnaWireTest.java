package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.nexus.Nexus;
import io.javastor.ioengine.nexus.NexusOptions;
import io.javastor.ioengine.nvmf.pdu.NvmeCommand;
import io.javastor.ioengine.nvmf.pdu.NvmeOpcode;
import io.javastor.ioengine.nvmf.pdu.NvmeStatus;
import io.javastor.ioengine.nvmf.pdu.Pdu;
import io.javastor.ioengine.nvmf.pdu.AnaState;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.nvmf.tgt.NvmfTargetOptions;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a multipath host needs from a path (NVMe base 2.0, 8.1.3): the ANA log page tells its state, a change comes as
 * an ANA Change notice, an Inaccessible path answers I/O with a path error the host fails over on (no DNR), and two
 * targets of one subsystem never hand out the same controller id.
 */
class NvmfAnaWireTest {
    static final String NQN = "nqn.2019-05.io.javastor:ana-test";
    static final String HOST = "nqn.2019-05.io.javastor:node-name:app-node";

    BlockDeviceFactory factory;
    BlockDevice disk;
    NvmfTarget target;
    int port;
    final List<WireHost> hosts = new ArrayList<>();

    @BeforeEach
    void start() {
        factory = BlockDeviceFactory.withDefaults();
        disk = factory.open("malloc:///nvmf-ana?size_mb=16");
        target = new NvmfTarget(NvmfTargetOptions.defaults().withEventLoopThreads(2));
        port = target.start("127.0.0.1", 0).getPort();
        target.addSubsystem(NQN, disk, "ANA1", "Javastor ANA", Set.of());
    }

    @AfterEach
    void stop() throws IOException {
        for (WireHost h : hosts) {
            h.close();
        }
        target.close();
        disk.close();
        factory.close();
    }

    private WireHost connect() throws IOException {
        WireHost h = new WireHost(port, NQN, HOST, disk.blockSize());
        hosts.add(h);
        return h;
    }

    /** Get Log Page 0Ch: CHGCNT and the ANAS of the one group; RAE as given. */
    private static long[] anaLog(WireHost h, boolean retainAsyncEvent) throws IOException {
        int cdw10 = NvmeOpcode.LOG_ANA | (retainAsyncEvent ? 0x8000 : 0) | ((4096 / 4 - 1) << 16);
        NvmeCommand c = NvmeCommand.of(NvmeOpcode.GET_LOG_PAGE, 0xFFFFFFFF, cdw10, 0, 0, 0, 0, 0).withCid(++h.cid)
                .withSgl(NvmeCommand.SGL_TRANSPORT, 4096);
        h.admin.send(new Pdu.CapsuleCommand(c, null));
        Pdu.C2HData data = (Pdu.C2HData) h.admin.receive();
        ByteBuf b = data.data();
        long[] out = {b.getLongLE(b.readerIndex()), b.getUnsignedByte(b.readerIndex() + 32)};
        data.release();
        assertThat(WireHost.response(h.admin, h.cid).completion().isSuccess()).isTrue();
        return out;
    }

    private static void enableAnaNotices(WireHost h) throws IOException {
        NvmeCommand c = NvmeCommand.of(NvmeOpcode.SET_FEATURES, 0, NvmeOpcode.FEATURE_ASYNC_EVENT_CONFIG, 1 << 11, 0, 0, 0, 0)
                .withCid(++h.cid).withSgl(NvmeCommand.SGL_TRANSPORT, 0);
        assertThat(h.admin.command(c).completion().isSuccess()).isTrue();
    }

    private static int sendAsyncEventRequest(WireHost h) throws IOException {
        int cid = ++h.cid;
        h.admin.send(new Pdu.CapsuleCommand(NvmeCommand.of(NvmeOpcode.ASYNC_EVENT_REQUEST, 0, 0, 0, 0, 0, 0, 0).withCid(cid)
                .withSgl(NvmeCommand.SGL_TRANSPORT, 0), null));
        return cid;
    }

    @Test
    void anInaccessiblePathSaysSoInItsLogPageWithANoticeAndOnEveryIo() throws IOException {
        WireHost h = connect();
        assertThat(h.write(1, 0x10)).isEqualTo(NvmeStatus.SUCCESS);
        long[] before = anaLog(h, false);
        assertThat(before[1]).as("ANAS of the current target").isEqualTo(AnaState.OPTIMIZED.anas());

        enableAnaNotices(h);
        int aer = sendAsyncEventRequest(h);
        assertThat(target.anaState(NQN, AnaState.INACCESSIBLE)).isTrue();
        Pdu.CapsuleResponse notice = WireHost.response(h.admin, aer);
        assertThat(notice.completion().dw0()).as("notice, ANA change, log page 0Ch").isEqualTo(0x2 | (0x03 << 8) | (0x0C << 16));

        long[] after = anaLog(h, false);
        assertThat(after[1]).isEqualTo(AnaState.INACCESSIBLE.anas());
        assertThat(after[0]).as("CHGCNT went up").isGreaterThan(before[0]);

        int write = h.write(1, 0x20);
        assertThat(write & 0x0FFE).isEqualTo(NvmeStatus.ANA_INACCESSIBLE & 0x0FFE);
        assertThat(write & 0x8000).as("no Do Not Retry: the host retries on another path").isZero();
        assertThat(h.readStatus(1) & 0x0FFE).isEqualTo(NvmeStatus.ANA_INACCESSIBLE & 0x0FFE);

        assertThat(target.anaState(NQN, AnaState.OPTIMIZED)).isTrue();
        int second = sendAsyncEventRequest(h);
        assertThat(WireHost.response(h.admin, second).completion().dw0()).as("unmasked by the log read: notified again")
                .isEqualTo(0x2 | (0x03 << 8) | (0x0C << 16));
        assertThat(h.read(1)).as("the refused write never landed").isEqualTo(0x10);
    }

    /**
     * The write that finds a nexus fenced (its device fails with EBADE: a child answered Reservation Conflict) is
     * itself a path error, not a media error: a multipath host retries it on its other path instead of failing it to
     * the application, as for every command after it.
     */
    @Test
    void aWriteThatFindsTheDeviceFencedIsAPathErrorWithoutDoNotRetry() throws IOException {
        String fencedNqn = "nqn.2019-05.io.javastor:ana-fenced";
        var fenced = new io.javastor.ioengine.device.ForwardingBlockDevice(disk) {
            @Override
            public java.util.concurrent.CompletableFuture<Void> write(long offset, java.nio.ByteBuffer src) {
                return java.util.concurrent.CompletableFuture.failedFuture(new io.javastor.ioengine.device.BlockIoException(
                        io.javastor.ioengine.device.BlockIoException.EBADE, "write", uri(), offset, src.remaining(), "fenced by a newer target"));
            }

            @Override
            public java.util.concurrent.CompletableFuture<Void> read(long offset, java.nio.ByteBuffer dst) {
                return java.util.concurrent.CompletableFuture.failedFuture(new io.javastor.ioengine.device.BlockIoException(
                        io.javastor.ioengine.device.BlockIoException.EBADE, "read", uri(), offset, dst.remaining(), "fenced by a newer target"));
            }
        };
        target.addSubsystem(fencedNqn, fenced, "ANA2", "Javastor ANA", Set.of());
        WireHost h = new WireHost(port, fencedNqn, HOST, disk.blockSize());
        hosts.add(h);
        int write = h.write(1, 0x30);
        assertThat(write & 0x0FFE).isEqualTo(NvmeStatus.ANA_INACCESSIBLE & 0x0FFE);
        assertThat(write & 0x8000).as("no Do Not Retry").isZero();
        int read = h.readStatus(1);
        assertThat(read & 0x0FFE).isEqualTo(NvmeStatus.ANA_INACCESSIBLE & 0x0FFE);
        assertThat(read & 0x8000).as("no Do Not Retry").isZero();
    }

    /**
     * A write that reaches a nexus already shutting down (a drain moves its target: the old nexus shuts down while its
     * connections close, and a command read meanwhile still gets to it) is a path error too. As a media error it failed
     * a drain's writes in the Linux VM ("critical medium error") instead of moving them to the new path.
     */
    @Test
    void aWriteThatFindsItsNexusShuttingDownIsAPathErrorWithoutDoNotRetry() throws IOException {
        String nexusNqn = "nqn.2019-05.io.javastor:ana-shutdown";
        BlockDevice child = factory.open("malloc:///nvmf-ana-child?size_mb=16");
        Nexus nexus = Nexus.create(UUID.randomUUID(), child.size(), List.of(child.uri()), uri -> child, NexusOptions.defaults());
        target.addSubsystem(nexusNqn, nexus, "ANA3", "Javastor ANA", Set.of());
        WireHost h = new WireHost(port, nexusNqn, HOST, disk.blockSize());
        hosts.add(h);
        assertThat(h.write(1, 0x40)).isEqualTo(NvmeStatus.SUCCESS);

        nexus.destroy();
        int write = h.write(1, 0x41);
        assertThat(write & 0x0FFE).as("ANA Inaccessible, not Write Fault").isEqualTo(NvmeStatus.ANA_INACCESSIBLE & 0x0FFE);
        assertThat(write & 0x8000).as("no Do Not Retry").isZero();
    }

    @Test
    void controllerIdsComeFromTheSubsystemsRange() throws IOException {
        target.controllerIds(NQN, 4097, 4098);
        WireHost first = connect();
        WireHost second = connect();
        assertThat(List.of(first.cntlid, second.cntlid)).containsExactlyInAnyOrder(4097, 4098);
        assertThatThrownBy(this::connect).as("the range is used up").isInstanceOf(AssertionError.class)
                .hasMessageContaining("admin connect");
        assertThatThrownBy(() -> target.controllerIds(NQN, 0, 10)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1..65519");
    }
}
