package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.nvmf.pdu.NvmeCommand;
import io.javastor.ioengine.nvmf.pdu.NvmeOpcode;
import io.javastor.ioengine.nvmf.pdu.NvmeProperty;
import io.javastor.ioengine.nvmf.pdu.NvmeStatus;
import io.javastor.ioengine.nvmf.pdu.Pdu;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.nvmf.tgt.NvmfTargetOptions;
import io.javastor.ioengine.reservation.ReservationRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * NVMe reservations on the wire (NVMe base 2.0, 8.19; NVM command set 3.2.3-3.2.6): two hosts, with the Host
 * Identifiers their Connect carries, register, acquire, preempt, release and report on a real target over real
 * sockets; the reservations are kept in files and survive a restart of the target.
 */
class NvmfReservationWireTest {
    static final String NQN = "nqn.2019-05.io.javastor:reservation-test";
    static final String HOST_A = "nqn.2019-05.io.javastor:node-name:old-nexus";
    static final String HOST_B = "nqn.2019-05.io.javastor:node-name:new-nexus";
    static final UUID REPLICA = UUID.fromString("6b3c7d0e-0000-4000-8000-00000000abcd");
    static final int WRITE_EXCLUSIVE = 1;
    static final int EXCLUSIVE_ACCESS = 2;
    static final long KEY_A = 0xA1A1_0000_0000_0001L;
    static final long KEY_B = 0xB2B2_0000_0000_0002L;

    @TempDir
    Path stateDir;
    BlockDeviceFactory factory;
    BlockDevice disk;
    NvmfTarget target;
    int port;
    final List<WireHost> hosts = new ArrayList<>();

    @BeforeEach
    void start() {
        factory = BlockDeviceFactory.withDefaults();
        disk = factory.open("malloc:///nvmf-reservations?size_mb=16");
        startTarget();
    }

    private void startTarget() {
        target = new NvmfTarget(NvmfTargetOptions.defaults().withEventLoopThreads(2));
        port = target.start("127.0.0.1", 0).getPort();
        // A new registry each start: what it knows comes from the files only, as after an engine restart.
        ReservationRegistry registry = ReservationRegistry.inDirectory(stateDir.resolve("reservations"));
        target.addSubsystem(NQN, disk, "RSV1", "Javastor reservations", Set.of(), registry.forReplica(REPLICA));
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

    @Test
    void registerAcquireReportAndRelease() throws IOException {
        WireHost a = connect(HOST_A);
        assertThat(a.register(0, false, 0, KEY_A)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(a.register(0, false, 0, KEY_A)).as("registering again with the same key").isEqualTo(NvmeStatus.SUCCESS);
        assertThat(status(a.register(0, false, 0, KEY_B))).as("registering again with another key").isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));

        WireHost.Report r = a.report();
        assertThat(r.generation()).as("every successful register counts").isEqualTo(2);
        assertThat(r.rtype()).isZero();
        assertThat(r.registrants()).containsExactly(new WireHost.Registrant(a.hostId, KEY_A, false));

        assertThat(status(a.acquire(0, WRITE_EXCLUSIVE, KEY_B, 0))).as("acquire with a wrong current key").isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        assertThat(a.acquire(0, WRITE_EXCLUSIVE, KEY_A, 0)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(a.acquire(0, WRITE_EXCLUSIVE, KEY_A, 0)).as("acquiring what one holds, same type").isEqualTo(NvmeStatus.SUCCESS);
        assertThat(status(a.acquire(0, EXCLUSIVE_ACCESS, KEY_A, 0))).as("acquiring what one holds, another type").isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        r = a.report();
        assertThat(r.rtype()).isEqualTo(WRITE_EXCLUSIVE);
        assertThat(r.generation()).as("acquire does not change the generation").isEqualTo(2);
        assertThat(r.registrants()).containsExactly(new WireHost.Registrant(a.hostId, KEY_A, true));
        assertThat(r.ptpls()).as("kept in a file: persists through power loss").isTrue();

        assertThat(status(a.release(0, EXCLUSIVE_ACCESS, KEY_A))).as("release naming another type").isEqualTo(status(NvmeStatus.INVALID_FIELD));
        assertThat(status(a.release(0, WRITE_EXCLUSIVE, KEY_B))).as("release with a wrong key").isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        assertThat(a.release(0, WRITE_EXCLUSIVE, KEY_A)).isEqualTo(NvmeStatus.SUCCESS);
        r = a.report();
        assertThat(r.rtype()).isZero();
        assertThat(r.registrants()).containsExactly(new WireHost.Registrant(a.hostId, KEY_A, false));
    }

    @Test
    void writeExclusiveRefusesOtherHostsWritesAndFlushesButNotTheirReads() throws IOException {
        WireHost a = connect(HOST_A);
        WireHost b = connect(HOST_B);
        assertThat(b.write(10, 0x11)).as("no reservation yet: anyone writes").isEqualTo(NvmeStatus.SUCCESS);
        assertThat(a.register(0, false, 0, KEY_A)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(a.acquire(0, WRITE_EXCLUSIVE, KEY_A, 0)).isEqualTo(NvmeStatus.SUCCESS);

        assertThat(status(b.write(10, 0x22))).isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        assertThat(status(b.flush())).isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        assertThat(b.read(10)).as("reads stay open under Write Exclusive, and see the refused write did not land").isEqualTo(0x11);
        assertThat(a.write(10, 0x33)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(a.flush()).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(b.read(10)).isEqualTo(0x33);

        assertThat(b.register(0, false, 0, KEY_B)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(status(b.write(10, 0x44))).as("a registrant is no holder under plain Write Exclusive").isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        assertThat(a.release(0, WRITE_EXCLUSIVE, KEY_A)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(b.write(10, 0x55)).as("released: anyone writes again").isEqualTo(NvmeStatus.SUCCESS);
    }

    @Test
    void exclusiveAccessRefusesOtherHostsReadsToo() throws IOException {
        WireHost a = connect(HOST_A);
        WireHost b = connect(HOST_B);
        assertThat(a.register(0, false, 0, KEY_A)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(a.acquire(0, EXCLUSIVE_ACCESS, KEY_A, 0)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(status(b.readStatus(10))).isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        assertThat(a.readStatus(10)).isEqualTo(NvmeStatus.SUCCESS);
    }

    /** The fence of a failover: the new nexus preempts the old one's key, after which the old one cannot write. */
    @Test
    void aPreemptedHolderGetsReservationConflictOnEveryWrite() throws IOException {
        WireHost oldNexus = connect(HOST_A);
        WireHost newNexus = connect(HOST_B);
        assertThat(oldNexus.register(0, false, 0, KEY_A)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(oldNexus.acquire(0, WRITE_EXCLUSIVE, KEY_A, 0)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(oldNexus.write(20, 0x66)).isEqualTo(NvmeStatus.SUCCESS);

        assertThat(newNexus.register(0, false, 0, KEY_B)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(status(newNexus.acquire(0, WRITE_EXCLUSIVE, KEY_B, 0))).as("acquire while another holds").isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        assertThat(status(newNexus.acquire(1, WRITE_EXCLUSIVE, KEY_B, 0))).as("preempt naming key 0").isEqualTo(status(NvmeStatus.INVALID_FIELD));
        assertThat(newNexus.acquire(2, WRITE_EXCLUSIVE, KEY_B, KEY_A)).as("preempt and abort the old key").isEqualTo(NvmeStatus.SUCCESS);

        assertThat(status(oldNexus.write(20, 0x77))).isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        assertThat(status(oldNexus.flush())).isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        assertThat(status(oldNexus.acquire(0, WRITE_EXCLUSIVE, KEY_A, 0))).as("the old host is no longer registered").isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        assertThat(newNexus.write(20, 0x88)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(newNexus.read(20)).isEqualTo(0x88);

        WireHost.Report r = newNexus.report();
        assertThat(r.rtype()).isEqualTo(WRITE_EXCLUSIVE);
        assertThat(r.generation()).as("two registers and a preempt").isEqualTo(3);
        assertThat(r.registrants()).containsExactly(new WireHost.Registrant(newNexus.hostId, KEY_B, true));
    }

    @Test
    void reservationsSurviveARestartOfTheTarget() throws IOException {
        WireHost a = connect(HOST_A);
        assertThat(a.register(0, false, 0, KEY_A)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(a.acquire(0, WRITE_EXCLUSIVE, KEY_A, 0)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(a.reservationPersistence()).as("Get Features Reservation Persistence: PTPL").isEqualTo(1);
        assertThat(a.rescap() & 0xFF).as("RESCAP: PTPL, every type, IEKEY").isEqualTo(0xFF);

        for (WireHost h : hosts) {
            h.close();
        }
        hosts.clear();
        target.close();
        startTarget();

        WireHost b = connect(HOST_B);
        assertThat(status(b.write(30, 0x12))).as("the fence outlives the restart").isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        WireHost again = connect(HOST_A);
        WireHost.Report r = again.report();
        assertThat(r.rtype()).isEqualTo(WRITE_EXCLUSIVE);
        assertThat(r.registrants()).containsExactly(new WireHost.Registrant(again.hostId, KEY_A, true));
        assertThat(again.write(30, 0x34)).isEqualTo(NvmeStatus.SUCCESS);
    }

    @Test
    void unregisterReplaceClearAndThePersistenceSetting() throws IOException {
        WireHost a = connect(HOST_A);
        WireHost b = connect(HOST_B);
        assertThat(a.register(0, false, 0, KEY_A)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(b.register(0, false, 0, KEY_B)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(status(a.register(2, false, KEY_B, 0x77))).as("replace with a wrong current key").isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        assertThat(a.register(2, true, 0, 0x77)).as("replace ignoring the existing key").isEqualTo(NvmeStatus.SUCCESS);
        assertThat(a.acquire(0, WRITE_EXCLUSIVE, 0x77, 0)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(status(b.write(40, 1))).isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        assertThat(a.register(1, false, 0x77, 0)).as("the holder unregisters").isEqualTo(NvmeStatus.SUCCESS);
        assertThat(b.report().rtype()).as("an unregistered holder's reservation ends").isZero();
        assertThat(b.write(40, 2)).isEqualTo(NvmeStatus.SUCCESS);

        // CPTPL 10b: the reservations no longer persist through power loss, and a restart forgets them.
        assertThat(b.registerWithCptpl(0, KEY_B, KEY_B, 2)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(b.report().ptpls()).isFalse();
        assertThat(b.acquire(0, WRITE_EXCLUSIVE, KEY_B, 0)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(b.release(1, WRITE_EXCLUSIVE, KEY_B)).as("clear").isEqualTo(NvmeStatus.SUCCESS);
        WireHost.Report cleared = a.report();
        assertThat(cleared.registrants()).isEmpty();
        assertThat(cleared.rtype()).isZero();
        assertThat(b.register(0, false, 0, KEY_B)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(b.registerWithCptpl(0, KEY_B, KEY_B, 2)).isEqualTo(NvmeStatus.SUCCESS);
        for (WireHost h : hosts) {
            h.close();
        }
        hosts.clear();
        target.close();
        startTarget();
        assertThat(connect(HOST_B).report().registrants()).as("not persisted through the restart").isEmpty();
    }

    @Test
    void malformedReservationCommandsAreRefusedAndChangeNothing() throws IOException {
        WireHost a = connect(HOST_A);
        assertThat(a.register(0, false, 0, KEY_A)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(status(a.acquire(0, 7, KEY_A, 0))).as("RTYPE 7").isEqualTo(status(NvmeStatus.INVALID_FIELD));
        assertThat(status(a.command(NvmeOpcode.RESERVATION_ACQUIRE, (1 << 3) | (WRITE_EXCLUSIVE << 8), 0, WireHost.keys(KEY_A, 0))))
                .as("IEKEY on acquire").isEqualTo(status(NvmeStatus.INVALID_FIELD));
        assertThat(status(a.command(NvmeOpcode.RESERVATION_REGISTER, 5, 0, WireHost.keys(0, KEY_B)))).as("RREGA 5").isEqualTo(status(NvmeStatus.INVALID_FIELD));
        assertThat(status(a.command(NvmeOpcode.RESERVATION_REGISTER, 1 << 30, 0, WireHost.keys(0, KEY_B)))).as("CPTPL 01b").isEqualTo(status(NvmeStatus.INVALID_FIELD));
        assertThat(status(a.command(NvmeOpcode.RESERVATION_RELEASE, 0, 0, new byte[4]))).as("release with 4 bytes of key")
                .isEqualTo(status(NvmeStatus.DATA_SGL_LENGTH_INVALID));
        assertThat(status(a.reportStatus(false))).as("report without the extended structure: our host ids are 128-bit")
                .isEqualTo(status(NvmeStatus.HOST_ID_INCONSISTENT_FORMAT));
        WireHost.Report r = a.report();
        assertThat(r.generation()).isEqualTo(1);
        assertThat(r.rtype()).isZero();
        assertThat(r.registrants()).containsExactly(new WireHost.Registrant(a.hostId, KEY_A, false));
    }

    // ------------------------------------------------------------------ a host on the wire

    private static int status(int s) {
        return s & 0x0FFE; // SCT and SC
    }

    private WireHost connect(String hostNqn) throws IOException {
        WireHost h = new WireHost(port, NQN, hostNqn, disk.blockSize());
        hosts.add(h);
        return h;
    }
}
