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
    final List<Host> hosts = new ArrayList<>();

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
        for (Host h : hosts) {
            h.close();
        }
        target.close();
        disk.close();
        factory.close();
    }

    @Test
    void registerAcquireReportAndRelease() throws IOException {
        Host a = connect(HOST_A);
        assertThat(a.register(0, false, 0, KEY_A)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(a.register(0, false, 0, KEY_A)).as("registering again with the same key").isEqualTo(NvmeStatus.SUCCESS);
        assertThat(status(a.register(0, false, 0, KEY_B))).as("registering again with another key").isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));

        Report r = a.report();
        assertThat(r.generation()).as("every successful register counts").isEqualTo(2);
        assertThat(r.rtype()).isZero();
        assertThat(r.registrants()).containsExactly(new Registrant(a.hostId, KEY_A, false));

        assertThat(status(a.acquire(0, WRITE_EXCLUSIVE, KEY_B, 0))).as("acquire with a wrong current key").isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        assertThat(a.acquire(0, WRITE_EXCLUSIVE, KEY_A, 0)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(a.acquire(0, WRITE_EXCLUSIVE, KEY_A, 0)).as("acquiring what one holds, same type").isEqualTo(NvmeStatus.SUCCESS);
        assertThat(status(a.acquire(0, EXCLUSIVE_ACCESS, KEY_A, 0))).as("acquiring what one holds, another type").isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        r = a.report();
        assertThat(r.rtype()).isEqualTo(WRITE_EXCLUSIVE);
        assertThat(r.generation()).as("acquire does not change the generation").isEqualTo(2);
        assertThat(r.registrants()).containsExactly(new Registrant(a.hostId, KEY_A, true));
        assertThat(r.ptpls()).as("kept in a file: persists through power loss").isTrue();

        assertThat(status(a.release(0, EXCLUSIVE_ACCESS, KEY_A))).as("release naming another type").isEqualTo(status(NvmeStatus.INVALID_FIELD));
        assertThat(status(a.release(0, WRITE_EXCLUSIVE, KEY_B))).as("release with a wrong key").isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        assertThat(a.release(0, WRITE_EXCLUSIVE, KEY_A)).isEqualTo(NvmeStatus.SUCCESS);
        r = a.report();
        assertThat(r.rtype()).isZero();
        assertThat(r.registrants()).containsExactly(new Registrant(a.hostId, KEY_A, false));
    }

    @Test
    void writeExclusiveRefusesOtherHostsWritesAndFlushesButNotTheirReads() throws IOException {
        Host a = connect(HOST_A);
        Host b = connect(HOST_B);
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
        Host a = connect(HOST_A);
        Host b = connect(HOST_B);
        assertThat(a.register(0, false, 0, KEY_A)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(a.acquire(0, EXCLUSIVE_ACCESS, KEY_A, 0)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(status(b.readStatus(10))).isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        assertThat(a.readStatus(10)).isEqualTo(NvmeStatus.SUCCESS);
    }

    /** The fence of a failover: the new nexus preempts the old one's key, after which the old one cannot write. */
    @Test
    void aPreemptedHolderGetsReservationConflictOnEveryWrite() throws IOException {
        Host oldNexus = connect(HOST_A);
        Host newNexus = connect(HOST_B);
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

        Report r = newNexus.report();
        assertThat(r.rtype()).isEqualTo(WRITE_EXCLUSIVE);
        assertThat(r.generation()).as("two registers and a preempt").isEqualTo(3);
        assertThat(r.registrants()).containsExactly(new Registrant(newNexus.hostId, KEY_B, true));
    }

    @Test
    void reservationsSurviveARestartOfTheTarget() throws IOException {
        Host a = connect(HOST_A);
        assertThat(a.register(0, false, 0, KEY_A)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(a.acquire(0, WRITE_EXCLUSIVE, KEY_A, 0)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(a.reservationPersistence()).as("Get Features Reservation Persistence: PTPL").isEqualTo(1);
        assertThat(a.rescap() & 0xFF).as("RESCAP: PTPL, every type, IEKEY").isEqualTo(0xFF);

        for (Host h : hosts) {
            h.close();
        }
        hosts.clear();
        target.close();
        startTarget();

        Host b = connect(HOST_B);
        assertThat(status(b.write(30, 0x12))).as("the fence outlives the restart").isEqualTo(status(NvmeStatus.RESERVATION_CONFLICT));
        Host again = connect(HOST_A);
        Report r = again.report();
        assertThat(r.rtype()).isEqualTo(WRITE_EXCLUSIVE);
        assertThat(r.registrants()).containsExactly(new Registrant(again.hostId, KEY_A, true));
        assertThat(again.write(30, 0x34)).isEqualTo(NvmeStatus.SUCCESS);
    }

    @Test
    void unregisterReplaceClearAndThePersistenceSetting() throws IOException {
        Host a = connect(HOST_A);
        Host b = connect(HOST_B);
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
        Report cleared = a.report();
        assertThat(cleared.registrants()).isEmpty();
        assertThat(cleared.rtype()).isZero();
        assertThat(b.register(0, false, 0, KEY_B)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(b.registerWithCptpl(0, KEY_B, KEY_B, 2)).isEqualTo(NvmeStatus.SUCCESS);
        for (Host h : hosts) {
            h.close();
        }
        hosts.clear();
        target.close();
        startTarget();
        assertThat(connect(HOST_B).report().registrants()).as("not persisted through the restart").isEmpty();
    }

    @Test
    void malformedReservationCommandsAreRefusedAndChangeNothing() throws IOException {
        Host a = connect(HOST_A);
        assertThat(a.register(0, false, 0, KEY_A)).isEqualTo(NvmeStatus.SUCCESS);
        assertThat(status(a.acquire(0, 7, KEY_A, 0))).as("RTYPE 7").isEqualTo(status(NvmeStatus.INVALID_FIELD));
        assertThat(status(a.command(NvmeOpcode.RESERVATION_ACQUIRE, (1 << 3) | (WRITE_EXCLUSIVE << 8), 0, keys(KEY_A, 0))))
                .as("IEKEY on acquire").isEqualTo(status(NvmeStatus.INVALID_FIELD));
        assertThat(status(a.command(NvmeOpcode.RESERVATION_REGISTER, 5, 0, keys(0, KEY_B)))).as("RREGA 5").isEqualTo(status(NvmeStatus.INVALID_FIELD));
        assertThat(status(a.command(NvmeOpcode.RESERVATION_REGISTER, 1 << 30, 0, keys(0, KEY_B)))).as("CPTPL 01b").isEqualTo(status(NvmeStatus.INVALID_FIELD));
        assertThat(status(a.command(NvmeOpcode.RESERVATION_RELEASE, 0, 0, new byte[4]))).as("release with 4 bytes of key")
                .isEqualTo(status(NvmeStatus.DATA_SGL_LENGTH_INVALID));
        assertThat(status(a.reportStatus(false))).as("report without the extended structure: our host ids are 128-bit")
                .isEqualTo(status(NvmeStatus.HOST_ID_INCONSISTENT_FORMAT));
        Report r = a.report();
        assertThat(r.generation()).isEqualTo(1);
        assertThat(r.rtype()).isZero();
        assertThat(r.registrants()).containsExactly(new Registrant(a.hostId, KEY_A, false));
    }

    // ------------------------------------------------------------------ a host on the wire

    record Registrant(UUID hostId, long key, boolean holds) {
    }

    record Report(long generation, int rtype, boolean ptpls, List<Registrant> registrants) {
    }

    private static int status(int s) {
        return s & 0x0FFE; // SCT and SC
    }

    private static byte[] keys(long first, long second) {
        ByteBuf b = Unpooled.buffer(16);
        b.writeLongLE(first).writeLongLE(second);
        return b.array();
    }

    private Host connect(String hostNqn) throws IOException {
        Host h = new Host(hostNqn);
        hosts.add(h);
        return h;
    }

    /** One host: an admin connection and one I/O queue, with WireClient's Host Identifier for its NQN. */
    final class Host implements AutoCloseable {
        final String nqn;
        final UUID hostId;
        final WireClient admin;
        final WireClient io;
        int cid = 10;

        Host(String nqn) throws IOException {
            this.nqn = nqn;
            this.hostId = UUID.nameUUIDFromBytes(nqn.getBytes(StandardCharsets.UTF_8));
            admin = new WireClient(port);
            admin.initialize();
            admin.send(WireClient.connectCapsule(1, NQN, nqn, 0));
            Pdu.CapsuleResponse r = (Pdu.CapsuleResponse) admin.receive();
            assertThat(r.completion().isSuccess()).as("admin connect %s", NvmeStatus.describe(r.completion().status())).isTrue();
            int cntlid = r.completion().dw0() & 0xFFFF;
            NvmeCommand enable = NvmeCommand.of(NvmeOpcode.FABRICS, NvmeOpcode.FCTYPE_PROPERTY_SET, 0, NvmeProperty.CC,
                    NvmeProperty.CC_EN | NvmeProperty.CC_IOSQES_64_IOCQES_16, 0, 0, 0).withCid(2).withSgl(NvmeCommand.SGL_TRANSPORT, 0);
            assertThat(admin.command(enable).completion().isSuccess()).isTrue();
            io = new WireClient(port);
            io.initialize();
            NvmeCommand connect = NvmeCommand.of(NvmeOpcode.FABRICS, NvmeOpcode.FCTYPE_CONNECT, 1 << 16, 31, 0, 0, 0, 0).withCid(1)
                    .withSgl(NvmeCommand.SGL_IN_CAPSULE, 1024);
            io.send(new Pdu.CapsuleCommand(connect, Unpooled.wrappedBuffer(WireClient.connectData(NQN, nqn, cntlid))));
            Pdu.CapsuleResponse ioc = (Pdu.CapsuleResponse) io.receive();
            assertThat(ioc.completion().isSuccess()).as("I/O connect %s", NvmeStatus.describe(ioc.completion().status())).isTrue();
        }

        /** A reservation command with in-capsule data; its status. */
        int command(int opcode, int cdw10, int cdw11, byte[] data) throws IOException {
            NvmeCommand c = NvmeCommand.of(opcode, 1, cdw10, cdw11, 0, 0, 0, 0).withCid(++cid).withSgl(NvmeCommand.SGL_IN_CAPSULE, data.length);
            io.send(new Pdu.CapsuleCommand(c, Unpooled.wrappedBuffer(data)));
            return response(io, cid).completion().status();
        }

        int register(int action, boolean ignoreExistingKey, long currentKey, long newKey) throws IOException {
            return command(NvmeOpcode.RESERVATION_REGISTER, action | (ignoreExistingKey ? 1 << 3 : 0), 0, keys(currentKey, newKey));
        }

        int registerWithCptpl(int action, long currentKey, long newKey, int cptpl) throws IOException {
            return command(NvmeOpcode.RESERVATION_REGISTER, action | (cptpl << 30), 0, keys(currentKey, newKey));
        }

        int acquire(int action, int rtype, long currentKey, long preemptKey) throws IOException {
            return command(NvmeOpcode.RESERVATION_ACQUIRE, action | (rtype << 8), 0, keys(currentKey, preemptKey));
        }

        int release(int action, int rtype, long currentKey) throws IOException {
            byte[] key = new byte[8];
            Unpooled.wrappedBuffer(key).setLongLE(0, currentKey);
            return command(NvmeOpcode.RESERVATION_RELEASE, action | (rtype << 8), 0, key);
        }

        int reportStatus(boolean extended) throws IOException {
            NvmeCommand c = NvmeCommand.of(NvmeOpcode.RESERVATION_REPORT, 1, 4096 / 4 - 1, extended ? 1 : 0, 0, 0, 0, 0)
                    .withCid(++cid).withSgl(NvmeCommand.SGL_TRANSPORT, 4096);
            io.send(new Pdu.CapsuleCommand(c, null));
            Pdu p = io.receive();
            assertThat(p).as("a refused report sends no data").isInstanceOf(Pdu.CapsuleResponse.class);
            return ((Pdu.CapsuleResponse) p).completion().status();
        }

        /** Reservation Report, extended data structure (base 2.0, figures 405-406). */
        Report report() throws IOException {
            NvmeCommand c = NvmeCommand.of(NvmeOpcode.RESERVATION_REPORT, 1, 4096 / 4 - 1, 1, 0, 0, 0, 0)
                    .withCid(++cid).withSgl(NvmeCommand.SGL_TRANSPORT, 4096);
            io.send(new Pdu.CapsuleCommand(c, null));
            Pdu.C2HData data = (Pdu.C2HData) io.receive();
            ByteBuf b = data.data();
            int base = b.readerIndex();
            int count = b.getUnsignedShortLE(base + 5);
            List<Registrant> out = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int at = base + 64 + i * 64;
                assertThat(b.getUnsignedShortLE(at)).as("CNTLID of a host's registration").isEqualTo(0xFFFF);
                out.add(new Registrant(new UUID(b.getLong(at + 16), b.getLong(at + 24)), b.getLongLE(at + 8), (b.getByte(at + 2) & 1) != 0));
            }
            Report r = new Report(b.getUnsignedIntLE(base), b.getUnsignedByte(base + 4), b.getByte(base + 9) != 0, out);
            data.release();
            assertThat(response(io, cid).completion().isSuccess()).isTrue();
            return r;
        }

        int write(long lba, int fill) throws IOException {
            int bs = disk.blockSize();
            byte[] d = new byte[bs];
            java.util.Arrays.fill(d, (byte) fill);
            NvmeCommand c = NvmeCommand.of(NvmeOpcode.WRITE, 1, (int) lba, 0, 0, 0, 0, 0).withCid(++cid).withSgl(NvmeCommand.SGL_IN_CAPSULE, bs);
            io.send(new Pdu.CapsuleCommand(c, Unpooled.wrappedBuffer(d)));
            return response(io, cid).completion().status();
        }

        int flush() throws IOException {
            io.send(new Pdu.CapsuleCommand(NvmeCommand.of(NvmeOpcode.FLUSH, 1, 0, 0, 0, 0, 0, 0).withCid(++cid)
                    .withSgl(NvmeCommand.SGL_TRANSPORT, 0), null));
            return response(io, cid).completion().status();
        }

        private NvmeCommand readCommand(long lba) {
            return NvmeCommand.of(NvmeOpcode.READ, 1, (int) lba, 0, 0, 0, 0, 0).withCid(++cid).withSgl(NvmeCommand.SGL_TRANSPORT, disk.blockSize());
        }

        /** The first byte of block {@code lba}. */
        int read(long lba) throws IOException {
            io.send(new Pdu.CapsuleCommand(readCommand(lba), null));
            Pdu p = io.receive();
            assertThat(p).as("read data").isInstanceOf(Pdu.C2HData.class);
            Pdu.C2HData data = (Pdu.C2HData) p;
            int first = data.data().getUnsignedByte(data.data().readerIndex());
            data.release();
            assertThat(response(io, cid).completion().isSuccess()).isTrue();
            return first;
        }

        int readStatus(long lba) throws IOException {
            io.send(new Pdu.CapsuleCommand(readCommand(lba), null));
            Pdu p = io.receive();
            if (p instanceof Pdu.C2HData data) {
                data.release();
                p = io.receive();
            }
            return ((Pdu.CapsuleResponse) p).completion().status();
        }

        int reservationPersistence() throws IOException {
            NvmeCommand c = NvmeCommand.of(NvmeOpcode.GET_FEATURES, 1, NvmeOpcode.FEATURE_RESERVATION_PERSISTENCE, 0, 0, 0, 0, 0)
                    .withCid(++cid).withSgl(NvmeCommand.SGL_TRANSPORT, 0);
            Pdu.CapsuleResponse r = admin.command(c);
            assertThat(r.completion().isSuccess()).as("get features 83h %s", NvmeStatus.describe(r.completion().status())).isTrue();
            return r.completion().dw0();
        }

        /** Identify Namespace byte 31, RESCAP. */
        int rescap() throws IOException {
            NvmeCommand c = NvmeCommand.of(NvmeOpcode.IDENTIFY, 1, NvmeOpcode.CNS_NAMESPACE, 0, 0, 0, 0, 0).withCid(++cid)
                    .withSgl(NvmeCommand.SGL_TRANSPORT, 4096);
            admin.send(new Pdu.CapsuleCommand(c, null));
            Pdu.C2HData data = (Pdu.C2HData) admin.receive();
            int rescap = data.data().getUnsignedByte(data.data().readerIndex() + 31);
            data.release();
            assertThat(response(admin, cid).completion().isSuccess()).isTrue();
            return rescap;
        }

        @Override
        public void close() throws IOException {
            io.close();
            admin.close();
        }
    }

    private static Pdu.CapsuleResponse response(WireClient c, int cid) throws IOException {
        Pdu p = c.receive();
        assertThat(p).isInstanceOf(Pdu.CapsuleResponse.class);
        Pdu.CapsuleResponse r = (Pdu.CapsuleResponse) p;
        assertThat(r.completion().cid()).isEqualTo(cid);
        return r;
    }
}
