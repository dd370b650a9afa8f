package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.nvmf.pdu.NvmeCommand;
import io.javastor.ioengine.nvmf.pdu.NvmeOpcode;
import io.javastor.ioengine.nvmf.pdu.NvmeStatus;
import io.javastor.ioengine.nvmf.pdu.Pdu;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.nvmf.tgt.NvmfTargetOptions;
import io.javastor.ioengine.nvmf.tgt.TargetLimits;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A host cannot take more of the target than the limits give it (issue 16): write data in waiting per controller and
 * per target, how long a write may wait for its data, controllers per subsystem; and a narrower host list
 * disconnects hosts no longer allowed. Every refusal leaves the target serving the other hosts.
 */
class NvmfLimitsWireTest {
    static final String NQN = "nqn.2019-05.io.javastor:limits-test";
    static final String HOST_A = "nqn.2019-05.io.javastor:node-name:greedy";
    static final String HOST_B = "nqn.2019-05.io.javastor:node-name:polite";
    static final String HOST_C = "nqn.2019-05.io.javastor:node-name:third";
    static final String HOST_D = "nqn.2019-05.io.javastor:node-name:fourth";
    static final int CHUNK = 8192;

    BlockDeviceFactory factory;
    BlockDevice disk;
    NvmfTarget target;
    int port;
    final List<WireHost> hosts = new ArrayList<>();

    @BeforeEach
    void start() {
        factory = BlockDeviceFactory.withDefaults();
        disk = factory.open("malloc:///nvmf-limits?size_mb=16");
        // One 8 KiB write in waiting per controller, two for the target; data within 1 s; three controllers per subsystem.
        target = new NvmfTarget(NvmfTargetOptions.defaults().withEventLoopThreads(2)
                .withLimits(new TargetLimits(CHUNK, 2 * CHUNK, Duration.ofSeconds(1), 3)));
        port = target.start("127.0.0.1", 0).getPort();
        target.addSubsystem(NQN, disk, "LIM1", "Javastor limits", Set.of(HOST_A, HOST_B, HOST_C, HOST_D));
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

    private WireHost connect(String host) throws IOException {
        WireHost h = new WireHost(port, NQN, host, disk.blockSize());
        hosts.add(h);
        return h;
    }

    /** Sends a write that asks for its data (transport SGL); returns the target's first answer. */
    private static Pdu writeAskingForData(WireHost h, long lba) throws IOException {
        NvmeCommand w = NvmeCommand.of(NvmeOpcode.WRITE, 1, (int) lba, 0, CHUNK / h.blockSize - 1, 0, 0, 0).withCid(++h.cid)
                .withSgl(NvmeCommand.SGL_TRANSPORT, CHUNK);
        h.io.send(new Pdu.CapsuleCommand(w, null));
        return h.io.receive();
    }

    @Test
    void writeDataInWaitingIsCappedPerControllerAndPerTargetAndTimesOut() throws IOException {
        WireHost greedy = connect(HOST_A);
        WireHost polite = connect(HOST_B);
        assertThat(writeAskingForData(greedy, 0)).as("the first write gets its R2T").isInstanceOf(Pdu.R2T.class);
        int stalledCid = greedy.cid;

        Pdu second = writeAskingForData(greedy, 16);
        assertThat(second).as("over the controller's cap: refused now").isInstanceOf(Pdu.CapsuleResponse.class);
        int status = ((Pdu.CapsuleResponse) second).completion().status();
        assertThat(status & 0x0FFE).isEqualTo(NvmeStatus.COMMAND_INTERRUPTED);
        assertThat(status & 0x8000).as("without Do Not Retry: the host tries again").isZero();

        assertThat(writeAskingForData(polite, 32)).as("another host still has room in the target's budget").isInstanceOf(Pdu.R2T.class);
        int politeCid = polite.cid;
        assertThat(target.dataBytesHeld()).isEqualTo(2 * CHUNK);
        WireHost third = connect(HOST_C);
        assertThat(writeAskingForData(third, 48)).as("the target's budget is used up").isInstanceOf(Pdu.CapsuleResponse.class);
        assertThat(third.write(64, 0x5A)).as("in-capsule writes hold nothing in waiting: still served").isEqualTo(NvmeStatus.SUCCESS);

        // Neither host sends its data: after the data timeout both writes fail and the buffers come back.
        Pdu late = greedy.io.receive();
        assertThat(late).isInstanceOf(Pdu.CapsuleResponse.class);
        assertThat(((Pdu.CapsuleResponse) late).completion().cid()).isEqualTo(stalledCid);
        assertThat(((Pdu.CapsuleResponse) late).completion().status() & 0x0FFE).isEqualTo(NvmeStatus.TRANSIENT_TRANSPORT_ERROR);
        assertThat(WireHost.response(polite.io, politeCid).completion().status() & 0x0FFE).isEqualTo(NvmeStatus.TRANSIENT_TRANSPORT_ERROR);
        await().atMost(Duration.ofSeconds(5)).until(() -> target.dataBytesHeld() == 0);
        assertThat(writeAskingForData(greedy, 0)).as("room again").isInstanceOf(Pdu.R2T.class);
    }

    @Test
    void aSubsystemHasAtMostItsLimitOfControllers() throws IOException {
        connect(HOST_A);
        connect(HOST_B);
        connect(HOST_C);
        assertThatThrownBy(() -> connect(HOST_D)).isInstanceOf(AssertionError.class).hasMessageContaining("admin connect sct=1 sc=0x81");
        assertThat(hosts.get(0).write(1, 0x11)).as("the others keep working").isEqualTo(NvmeStatus.SUCCESS);
    }

    @Test
    void aNarrowerHostListDisconnectsTheHostsNoLongerAllowed() throws IOException {
        WireHost kept = connect(HOST_A);
        WireHost dropped = connect(HOST_B);
        target.addSubsystem(NQN, disk, "LIM1", "Javastor limits", Set.of(HOST_A));
        dropped.io.socket.setSoTimeout(5000);
        assertThat(dropped.io.closedByPeer()).as("the dropped host's I/O queue is closed").isTrue();
        assertThat(kept.write(2, 0x22)).isEqualTo(NvmeStatus.SUCCESS);
        assertThatThrownBy(() -> connect(HOST_B)).as("and it cannot come back").isInstanceOf(AssertionError.class);
    }
}
