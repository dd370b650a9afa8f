package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.nvmf.pdu.NvmeCommand;
import io.javastor.ioengine.nvmf.pdu.NvmeOpcode;
import io.javastor.ioengine.nvmf.pdu.NvmeProperty;
import io.javastor.ioengine.nvmf.pdu.NvmeStatus;
import io.javastor.ioengine.nvmf.pdu.Pdu;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** One NVMe/TCP host on the wire: an admin connection and one I/O queue, with WireClient's Host Identifier for its NQN. */
final class WireHost implements AutoCloseable {
    record Registrant(UUID hostId, long key, boolean holds) {
    }

    record Report(long generation, int rtype, boolean ptpls, List<Registrant> registrants) {
    }

    final String subnqn;
    final int blockSize;

    final String nqn;
    final UUID hostId;
    final WireClient admin;
    final WireClient io;
    final int cntlid;
    int cid = 10;

    WireHost(int port, String subnqn, String nqn, int blockSize) throws IOException {
        this.subnqn = subnqn;
        this.blockSize = blockSize;
        this.nqn = nqn;
        this.hostId = UUID.nameUUIDFromBytes(nqn.getBytes(StandardCharsets.UTF_8));
        admin = new WireClient(port);
        admin.initialize();
        admin.send(WireClient.connectCapsule(1, subnqn, nqn, 0));
        Pdu.CapsuleResponse r = (Pdu.CapsuleResponse) admin.receive();
        assertThat(r.completion().isSuccess()).as("admin connect %s", NvmeStatus.describe(r.completion().status())).isTrue();
        cntlid = r.completion().dw0() & 0xFFFF;
        NvmeCommand enable = NvmeCommand.of(NvmeOpcode.FABRICS, NvmeOpcode.FCTYPE_PROPERTY_SET, 0, NvmeProperty.CC,
                NvmeProperty.CC_EN | NvmeProperty.CC_IOSQES_64_IOCQES_16, 0, 0, 0).withCid(2).withSgl(NvmeCommand.SGL_TRANSPORT, 0);
        assertThat(admin.command(enable).completion().isSuccess()).isTrue();
        io = new WireClient(port);
        io.initialize();
        NvmeCommand connect = NvmeCommand.of(NvmeOpcode.FABRICS, NvmeOpcode.FCTYPE_CONNECT, 1 << 16, 31, 0, 0, 0, 0).withCid(1)
                .withSgl(NvmeCommand.SGL_IN_CAPSULE, 1024);
        io.send(new Pdu.CapsuleCommand(connect, Unpooled.wrappedBuffer(WireClient.connectData(subnqn, nqn, cntlid))));
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
        int bs = blockSize;
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
        return NvmeCommand.of(NvmeOpcode.READ, 1, (int) lba, 0, 0, 0, 0, 0).withCid(++cid).withSgl(NvmeCommand.SGL_TRANSPORT, blockSize);
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

    static byte[] keys(long first, long second) {
        ByteBuf b = Unpooled.buffer(16);
        b.writeLongLE(first).writeLongLE(second);
        return b.array();
    }

    static Pdu.CapsuleResponse response(WireClient c, int cid) throws IOException {
        Pdu p = c.receive();
        assertThat(p).isInstanceOf(Pdu.CapsuleResponse.class);
        Pdu.CapsuleResponse r = (Pdu.CapsuleResponse) p;
        assertThat(r.completion().cid()).isEqualTo(cid);
        return r;
    }
}
