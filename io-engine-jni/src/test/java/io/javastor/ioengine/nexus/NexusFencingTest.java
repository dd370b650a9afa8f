package io.javastor.ioengine.nexus;

import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.device.IoOutcomes;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import io.javastor.ioengine.nvmf.pdu.AnaState;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.nvmf.tgt.NvmfTargetOptions;
import io.javastor.ioengine.nvmf.tgt.Subsystem;
import io.javastor.ioengine.pool.DiskPolicy;
import io.javastor.ioengine.pool.PoolRegistry;
import io.javastor.ioengine.reservation.NamespaceReservations;
import io.javastor.ioengine.reservation.ReservationRegistry;
import io.javastor.ioengine.reservation.ReservationType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A failover's fence, end to end in one process: two replicas exported by two targets (two "nodes"), a volume's old
 * nexus and its successor on two other "nodes" reaching both through our NVMe/TCP host. Once the successor exists the
 * old nexus can neither write nor read, records no child fault (the children are fine), and a nexus with the old key
 * cannot come back.
 */
class NexusFencingTest {
    static final long SIZE = 8L << 20;
    static final String OLD_NODE = "nqn.2019-05.io.javastor:node-name:node-1";
    static final String NEW_NODE = "nqn.2019-05.io.javastor:node-name:node-4";

    BlockDeviceFactory factory;
    PoolRegistry noPools;
    final List<BlockDevice> disks = new ArrayList<>();
    final List<NamespaceReservations> reservations = new ArrayList<>();
    final List<NvmfTarget> targets = new ArrayList<>();
    final List<String> children = new ArrayList<>();
    final List<Nexus> nexuses = new ArrayList<>();

    @BeforeEach
    void start() {
        factory = BlockDeviceFactory.withDefaults();
        noPools = new PoolRegistry(factory, 2.5, new DiskPolicy(List.of(), 0));
        for (int i = 0; i < 2; i++) {
            String nqn = "nqn.2019-05.io.javastor:fence-replica-" + i;
            BlockDevice disk = factory.open("malloc:///fence-" + i + "?size_mb=8");
            NamespaceReservations r = NamespaceReservations.inMemory(nqn);
            NvmfTarget t = new NvmfTarget(NvmfTargetOptions.defaults().withEventLoopThreads(1));
            int port = t.start("127.0.0.1", 0).getPort();
            t.addSubsystem(nqn, disk, "FENCE" + i, "Javastor fence test", Set.of(), r);
            disks.add(disk);
            reservations.add(r);
            targets.add(t);
            children.add("nvmf://127.0.0.1:" + port + "/" + nqn);
        }
    }

    @AfterEach
    void stop() {
        nexuses.forEach(Nexus::destroy);
        targets.forEach(NvmfTarget::close);
        disks.forEach(BlockDevice::close);
        noPools.close();
        factory.close();
    }

    private Nexus nexus(UUID volume, String node, long key) {
        EngineChildDevices opener = new EngineChildDevices(noPools, ReservationRegistry.inMemory(), node, Duration.ofSeconds(10));
        Nexus n = Nexus.create(volume, SIZE, children, opener, NexusTest.options(), ChildHealthLedger.NONE, key);
        nexuses.add(n);
        return n;
    }

    @Test
    void theSuccessorFencesTheOldNexusOffEveryChild() {
        UUID volume = UUID.randomUUID();
        Nexus old = nexus(volume, OLD_NODE, 5);
        int bs = old.blockSize();
        old.write(0, IoOutcomes.filled(bs, 0x11)).join();
        UUID oldHost = UUID.nameUUIDFromBytes(OLD_NODE.getBytes(StandardCharsets.UTF_8));
        for (NamespaceReservations r : reservations) {
            assertThat(r.status().holder()).as("the old nexus holds every child").isEqualTo(oldHost);
            assertThat(r.status().type()).isEqualTo(ReservationType.WRITE_EXCLUSIVE);
        }

        Nexus successor = nexus(volume, NEW_NODE, 6);
        UUID newHost = UUID.nameUUIDFromBytes(NEW_NODE.getBytes(StandardCharsets.UTF_8));
        for (NamespaceReservations r : reservations) {
            assertThat(r.status().holder()).isEqualTo(newHost);
            assertThat(r.status().registrant(oldHost)).as("the old key is preempted").isNull();
        }

        assertThat(IoOutcomes.errnoOf(() -> old.write(0, IoOutcomes.filled(bs, 0x22)).join())).isEqualTo(BlockIoException.EBADE);
        assertThat(old.isFenced()).isTrue();
        assertThat(old.state()).isInstanceOf(NexusState.Faulted.class);
        assertThat(old.state().reason()).contains("fenced");
        assertThat(old.children()).as("no child is faulted: they are fine, the nexus is stale").allMatch(NexusChild::isOnline);
        assertThat(IoOutcomes.errnoOf(() -> old.read(0, DmaBuffers.allocate(bs)).join())).as("a fenced nexus serves no reads").isEqualTo(BlockIoException.EBADE);
        assertThat(IoOutcomes.errnoOf(() -> old.flush().join())).isEqualTo(BlockIoException.EBADE);

        successor.write(0, IoOutcomes.filled(bs, 0x33)).join();
        for (BlockDevice d : disks) {
            ByteBuffer back = DmaBuffers.allocate(bs);
            d.read(0, back).join();
            assertThat(back.get(0)).as("the successor's data on every replica, none of the fenced write").isEqualTo((byte) 0x33);
        }
    }

    /** The old target's path turns ANA Inaccessible once it is fenced; each generation has its own controller ids. */
    @Test
    void aFencedPublishedNexusTurnsItsPathInaccessible() {
        UUID volume = UUID.randomUUID();
        NvmfTarget oldTarget = new NvmfTarget(NvmfTargetOptions.defaults().withEventLoopThreads(1));
        targets.add(oldTarget);
        oldTarget.start("127.0.0.1", 0);
        NexusRegistry oldNode = new NexusRegistry(new EngineChildDevices(noPools, ReservationRegistry.inMemory(), OLD_NODE, Duration.ofSeconds(10)),
                oldTarget, "127.0.0.1", NexusTest.options());
        try {
            Nexus old = oldNode.create(volume.toString(), SIZE, children, 5);
            NexusRegistry.Share share = oldNode.publish(volume.toString(), List.of());
            Subsystem path = oldTarget.subsystem(share.nqn());
            assertThat(path.anaState()).isEqualTo(AnaState.OPTIMIZED);
            try (NvmfBlockDevice host = NvmfBlockDevice.connect(share.uri(), NvmfHostOptions.defaults("nqn.2019-05.io.javastor:node-name:app"))) {
                assertThat(host.controllerId()).as("generation 5's controller ids").isBetween(4 * 2048 + 1, 5 * 2048);
                host.write(0, IoOutcomes.filled(host.blockSize(), 0x01)).join();

                nexus(volume, NEW_NODE, 6);
                assertThat(IoOutcomes.errnoOf(() -> host.write(0, IoOutcomes.filled(host.blockSize(), 0x02)).join())).as("the path answers, but not with data: a path error")
                        .isEqualTo(BlockIoException.ENOLINK);
                assertThat(old.isFenced()).isTrue();
                assertThat(path.anaState()).isEqualTo(AnaState.INACCESSIBLE);
                assertThat(IoOutcomes.errnoOf(() -> host.read(0, DmaBuffers.allocate(host.blockSize())).join()))
                        .as("an inaccessible path serves nothing").isEqualTo(BlockIoException.ENOLINK);
            }
        } finally {
            oldNode.close();
        }
    }

    @Test
    void aNexusWithAnOlderKeyCannotTakeTheChildrenBack() {
        UUID volume = UUID.randomUUID();
        nexus(volume, NEW_NODE, 9);
        assertThatThrownBy(() -> nexus(volume, OLD_NODE, 8))
                .isInstanceOfSatisfying(EngineException.class, e -> {
                    assertThat(e.kind()).isEqualTo(EngineException.Kind.FAILED_PRECONDITION);
                    assertThat(e.getMessage()).contains("is stale").contains("key 9");
                });
        UUID holder = UUID.nameUUIDFromBytes(NEW_NODE.getBytes(StandardCharsets.UTF_8));
        for (NamespaceReservations r : reservations) {
            assertThat(r.status().holder()).as("the refused nexus changed nothing").isEqualTo(holder);
        }
    }

    @Test
    void aNewNexusOnTheSameNodeReplacesItsOwnOlderKey() {
        UUID volume = UUID.randomUUID();
        Nexus first = nexus(volume, OLD_NODE, 3);
        first.destroy();
        nexuses.remove(first);
        Nexus again = nexus(volume, OLD_NODE, 4);
        again.write(0, IoOutcomes.filled(again.blockSize(), 0x44)).join();
        for (NamespaceReservations r : reservations) {
            assertThat(r.status().registrants()).extracting(reg -> reg.key()).containsExactly(4L);
        }
    }
}
