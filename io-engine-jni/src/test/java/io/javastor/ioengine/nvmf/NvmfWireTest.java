package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import io.javastor.ioengine.nvmf.pdu.NvmeCommand;
import io.javastor.ioengine.nvmf.pdu.NvmeOpcode;
import io.javastor.ioengine.nvmf.pdu.NvmeStatus;
import io.javastor.ioengine.nvmf.pdu.Pdu;
import io.javastor.ioengine.nvmf.pdu.PduFormat;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.nvmf.tgt.NvmfTargetOptions;
import io.javastor.ioengine.nvmf.tgt.Subsystem;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Raw PDUs on real sockets: discovery, keep-alive expiry, protocol violations and a fuzz run. */
class NvmfWireTest {
    static final String NQN = "nqn.2019-05.io.javastor:wire-test";
    static final String HOST = "nqn.2019-05.io.javastor:node-name:wire";

    BlockDeviceFactory factory;
    BlockDevice disk;
    NvmfTarget target;
    int port;

    @BeforeEach
    void start() {
        factory = BlockDeviceFactory.withDefaults();
        disk = factory.open("malloc:///nvmf-wire?size_mb=16");
        target = new NvmfTarget(NvmfTargetOptions.defaults().withEventLoopThreads(2));
        port = target.start("127.0.0.1", 0).getPort();
        target.addSubsystem(NQN, disk, "WIRE1", "Javastor wire", Set.of());
        target.addSubsystem(NQN + "-private", disk, "WIRE2", "Javastor wire", Set.of("nqn.2019-05.io.javastor:node-name:someone-else"));
    }

    @AfterEach
    void stop() {
        target.close();
        disk.close();
        factory.close();
    }

    private static NvmeCommand propertySet(int cid, int ofst, int value) {
        return NvmeCommand.of(NvmeOpcode.FABRICS, 0x00, 0, ofst, value, 0, 0, 0).withCid(cid).withSgl(NvmeCommand.SGL_TRANSPORT, 0);
    }

    /** ICReq, Connect (admin queue), CC.EN = 1; returns the controller id. */
    private static int connectAdmin(WireClient c, String nqn, int kato) throws IOException {
        c.initialize();
        c.send(WireClient.connectCapsule(1, nqn, HOST, kato));
        Pdu.CapsuleResponse r = (Pdu.CapsuleResponse) c.receive();
        assertThat(r.completion().isSuccess()).as("connect %s", NvmeStatus.describe(r.completion().status())).isTrue();
        assertThat(c.command(propertySet(2, 0x14, 1 | (6 << 16) | (4 << 20))).completion().isSuccess()).isTrue();
        return r.completion().dw0() & 0xFFFF;
    }

    @Test
    void discoveryLogListsTheSubsystemsThisHostMaySee() throws IOException {
        try (WireClient c = new WireClient(port)) {
            connectAdmin(c, Subsystem.DISCOVERY_NQN, 0);
            // Get Log Page 70h, 3 KiB (NUMDL = 768 - 1)
            NvmeCommand glp = NvmeCommand.of(0x02, 0, 0x70 | ((768 - 1) << 16), 0, 0, 0, 0, 0).withCid(3).withSgl(NvmeCommand.SGL_TRANSPORT, 3072);
            c.send(new Pdu.CapsuleCommand(glp, null));
            Pdu.C2HData data = (Pdu.C2HData) c.receive();
            ByteBuf log = data.data();
            assertThat(log.readableBytes()).isEqualTo(3072);
            assertThat(log.getLongLE(8)).as("NUMREC").isEqualTo(1);
            assertThat(log.getByte(1024)).as("TRTYPE tcp").isEqualTo((byte) 3);
            assertThat(log.toString(1024 + 256, NQN.length(), StandardCharsets.UTF_8)).isEqualTo(NQN);
            assertThat(log.toString(1024 + 512, 9, StandardCharsets.US_ASCII)).isEqualTo("127.0.0.1");
            assertThat(log.toString(1024 + 32, 5, StandardCharsets.US_ASCII).trim()).isEqualTo(Integer.toString(port));
            data.release();
            assertThat(((Pdu.CapsuleResponse) c.receive()).completion().isSuccess()).isTrue();
            // an unknown opcode gets Invalid Opcode and the connection stays usable
            Pdu.CapsuleResponse bad = c.command(NvmeCommand.of(0x7E, 0, 0, 0, 0, 0, 0, 0).withCid(4).withSgl(NvmeCommand.SGL_TRANSPORT, 0));
            assertThat(bad.completion().status()).isEqualTo(NvmeStatus.INVALID_OPCODE);
            assertThat(c.command(NvmeCommand.of(0x18, 0, 0, 0, 0, 0, 0, 0).withCid(5).withSgl(NvmeCommand.SGL_TRANSPORT, 0))
                    .completion().isSuccess()).isTrue();
        }
    }

    /** A device that reports less than it has until told to grow: a resize without a pool. */
    static final class GrowingDevice extends io.javastor.ioengine.device.ForwardingBlockDevice {
        volatile long size;

        GrowingDevice(BlockDevice inner, long size) {
            super(inner);
            this.size = size;
        }

        @Override
        public long size() {
            return size;
        }
    }

    private static Pdu.CapsuleResponse response(WireClient c, int cid) throws IOException {
        Pdu p = c.receive();
        assertThat(p).isInstanceOf(Pdu.CapsuleResponse.class);
        Pdu.CapsuleResponse r = (Pdu.CapsuleResponse) p;
        assertThat(r.completion().cid()).isEqualTo(cid);
        return r;
    }

    /** Get Log Page 04h (Changed Namespace List), RAE cleared: the first NSID listed (0 when none). */
    private static int changedNamespace(WireClient c, int cid) throws IOException {
        NvmeCommand glp = NvmeCommand.of(0x02, 0xFFFFFFFF, 0x04 | ((1024 - 1) << 16), 0, 0, 0, 0, 0).withCid(cid).withSgl(NvmeCommand.SGL_TRANSPORT, 4096);
        c.send(new Pdu.CapsuleCommand(glp, null));
        Pdu.C2HData data = (Pdu.C2HData) c.receive();
        int nsid = data.data().getIntLE(0);
        data.release();
        assertThat(response(c, cid).completion().isSuccess()).isTrue();
        return nsid;
    }

    private static long identifyNsze(WireClient c, int cid) throws IOException {
        c.send(new Pdu.CapsuleCommand(NvmeCommand.of(0x06, 1, 0x00, 0, 0, 0, 0, 0).withCid(cid).withSgl(NvmeCommand.SGL_TRANSPORT, 4096), null));
        Pdu.C2HData data = (Pdu.C2HData) c.receive();
        long nsze = data.data().getLongLE(0);
        assertThat(data.data().getLongLE(8)).as("NCAP").isEqualTo(nsze);
        assertThat(data.data().getLongLE(16)).as("NUSE").isEqualTo(nsze);
        data.release();
        assertThat(response(c, cid).completion().isSuccess()).isTrue();
        return nsze;
    }

    @Test
    void namespaceChangedNoticeReachesTheHostOnceUntilItReadsTheChangedNamespaceList() throws IOException {
        GrowingDevice growing = new GrowingDevice(disk, 8L << 20);
        String nqn = NQN + "-grow";
        target.addSubsystem(nqn, growing, "WIRE3", "Javastor wire", Set.of());
        int bs = disk.blockSize();
        try (WireClient c = new WireClient(port)) {
            connectAdmin(c, nqn, 0);
            assertThat(identifyNsze(c, 3)).isEqualTo((8L << 20) / bs);
            // No notice unless the host enabled Namespace Attribute Notices.
            growing.size = 10L << 20;
            target.notifyNamespaceChanged(nqn);
            assertThat(c.command(NvmeCommand.of(0x09, 0, 0x0B, 1 << 8, 0, 0, 0, 0).withCid(4).withSgl(NvmeCommand.SGL_TRANSPORT, 0))
                    .completion().isSuccess()).isTrue();
            assertThat(changedNamespace(c, 5)).as("the change is listed even without a notice").isEqualTo(1);
            assertThat(changedNamespace(c, 6)).as("reading the log cleared it").isZero();

            // A change with no Async Event Request outstanding waits for the host's next one.
            growing.size = 12L << 20;
            target.notifyNamespaceChanged(nqn);
            c.send(new Pdu.CapsuleCommand(NvmeCommand.of(0x0C, 0, 0, 0, 0, 0, 0, 0).withCid(7).withSgl(NvmeCommand.SGL_TRANSPORT, 0), null));
            Pdu.CapsuleResponse notice = response(c, 7);
            assertThat(notice.completion().isSuccess()).isTrue();
            assertThat(notice.completion().dw0()).as("notice, namespace attribute changed, log 04h").isEqualTo(0x040002);
            assertThat(identifyNsze(c, 8)).isEqualTo((12L << 20) / bs);

            // Until the host reads log 04h, further changes send no notice (the request stays outstanding).
            c.send(new Pdu.CapsuleCommand(NvmeCommand.of(0x0C, 0, 0, 0, 0, 0, 0, 0).withCid(9).withSgl(NvmeCommand.SGL_TRANSPORT, 0), null));
            growing.size = 14L << 20;
            target.notifyNamespaceChanged(nqn);
            assertThat(changedNamespace(c, 10)).isEqualTo(1);
            // Read: unmasked. The next change completes the request that has been waiting.
            growing.size = 16L << 20;
            target.notifyNamespaceChanged(nqn);
            Pdu.CapsuleResponse second = response(c, 9);
            assertThat(second.completion().dw0()).isEqualTo(0x040002);
            assertThat(identifyNsze(c, 11)).isEqualTo((16L << 20) / bs);
        }
    }

    /** ICReq and Connect of I/O queue {@code qid} to controller {@code cntlid} (SQ flow control on: separate responses). */
    private static void connectIo(WireClient c, String nqn, int cntlid, int qid) throws IOException {
        connectIo(c, nqn, cntlid, qid, false);
    }

    private static void connectIo(WireClient c, String nqn, int cntlid, int qid, boolean dataDigest) throws IOException {
        c.initialize(false, dataDigest);
        NvmeCommand connect = NvmeCommand.of(NvmeOpcode.FABRICS, 0x01, qid << 16, 31, 0, 0, 0, 0).withCid(1)
                .withSgl(NvmeCommand.SGL_IN_CAPSULE, 1024);
        c.send(new Pdu.CapsuleCommand(connect, Unpooled.wrappedBuffer(WireClient.connectData(nqn, HOST, cntlid))));
        Pdu.CapsuleResponse r = response(c, 1);
        assertThat(r.completion().isSuccess()).as("I/O connect %s", NvmeStatus.describe(r.completion().status())).isTrue();
    }

    private static NvmeCommand write(int cid, long lba, int bytes, int blockSize, boolean inCapsule) {
        return NvmeCommand.of(0x01, 1, (int) lba, (int) (lba >>> 32), bytes / blockSize - 1, 0, 0, 0).withCid(cid)
                .withSgl(inCapsule ? NvmeCommand.SGL_IN_CAPSULE : NvmeCommand.SGL_TRANSPORT, bytes);
    }

    private static byte[] pattern(int len, int value) {
        byte[] b = new byte[len];
        java.util.Arrays.fill(b, (byte) value);
        return b;
    }

    /** Reads {@code len} bytes at {@code lba} over the wire (C2HData then the response). */
    private static byte[] readOverWire(WireClient c, int cid, long lba, int len, int blockSize) throws IOException {
        NvmeCommand read = NvmeCommand.of(0x02, 1, (int) lba, (int) (lba >>> 32), len / blockSize - 1, 0, 0, 0).withCid(cid)
                .withSgl(NvmeCommand.SGL_TRANSPORT, len);
        c.send(new Pdu.CapsuleCommand(read, null));
        Pdu.C2HData data = (Pdu.C2HData) c.receive();
        byte[] out = new byte[data.data().readableBytes()];
        data.data().getBytes(data.data().readerIndex(), out);
        data.release();
        assertThat(response(c, cid).completion().isSuccess()).isTrue();
        return out;
    }

    private static int abort(WireClient admin, int cid, int sqid, int victim) throws IOException {
        admin.send(new Pdu.CapsuleCommand(NvmeCommand.of(0x08, 0, sqid | (victim << 16), 0, 0, 0, 0, 0).withCid(cid)
                .withSgl(NvmeCommand.SGL_TRANSPORT, 0), null));
        Pdu.CapsuleResponse r = response(admin, cid);
        assertThat(r.completion().isSuccess()).isTrue();
        return r.completion().dw0();
    }

    @Test
    void abortStopsACommandStillWaitingForItsDataAndItsLateDataIsDropped() throws IOException {
        int bs = disk.blockSize();
        long lba = 64;
        disk.write(lba * bs, ByteBuffer.wrap(pattern(8192, 0x33))).join();
        try (WireClient admin = new WireClient(port); WireClient io = new WireClient(port)) {
            int cntlid = connectAdmin(admin, NQN, 0);
            connectIo(io, NQN, cntlid, 1);
            io.send(new Pdu.CapsuleCommand(write(5, lba, 8192, bs, false), null));
            Pdu.R2T r2t = (Pdu.R2T) io.receive();
            assertThat(r2t.cccid()).isEqualTo(5);

            assertThat(abort(admin, 3, 1, 5) & 1).as("Abort dw0 bit 0: 0 = aborted").isZero();
            Pdu.CapsuleResponse aborted = response(io, 5);
            assertThat(aborted.completion().status()).isEqualTo(NvmeStatus.ABORT_REQUESTED);

            // The data the host had already on its way arrives after all: dropped, not a protocol error, not written.
            io.send(new Pdu.H2CData(5, r2t.ttag(), 0, true, Unpooled.wrappedBuffer(pattern(8192, 0xEE))));
            // The connection and the command id are usable again.
            io.send(new Pdu.CapsuleCommand(write(6, 300, 4096, bs, true), Unpooled.wrappedBuffer(pattern(4096, 0x44))));
            assertThat(response(io, 6).completion().isSuccess()).isTrue();
            assertThat(readOverWire(io, 5, lba, 8192, bs)).as("the aborted write never reached the device").isEqualTo(pattern(8192, 0x33));
            assertThat(readOverWire(io, 7, 300, 4096, bs)).isEqualTo(pattern(4096, 0x44));

            assertThat(abort(admin, 4, 1, 6) & 1).as("completed command: not aborted").isEqualTo(1);
            assertThat(abort(admin, 5, 1, 99) & 1).as("unknown command id: not aborted").isEqualTo(1);
            assertThat(abort(admin, 6, 7, 5) & 1).as("no such queue: not aborted").isEqualTo(1);
            assertThat(abort(admin, 7, 0, 2) & 1).as("admin command: not aborted").isEqualTo(1);
            assertThat(target.subsystem(NQN).controllers()).hasSize(1);
        }
    }

    /** Holds every write until {@link #gate} completes: a command that sits at the device. */
    static final class GatedDevice extends io.javastor.ioengine.device.ForwardingBlockDevice {
        final java.util.concurrent.CompletableFuture<Void> gate = new java.util.concurrent.CompletableFuture<>();
        final java.util.concurrent.CountDownLatch arrived = new java.util.concurrent.CountDownLatch(1);

        GatedDevice(BlockDevice inner) {
            super(inner);
        }

        @Override
        public java.util.concurrent.CompletableFuture<Void> write(long offset, ByteBuffer src) {
            arrived.countDown();
            return gate.thenCompose(v -> super.write(offset, src));
        }
    }

    @Test
    void abortOfACommandAlreadyAtTheDeviceIsRefusedAndTheCommandCompletes() throws IOException {
        GatedDevice gated = new GatedDevice(disk);
        String nqn = NQN + "-gated";
        target.addSubsystem(nqn, gated, "WIRE4", "Javastor wire", Set.of());
        int bs = disk.blockSize();
        try (WireClient admin = new WireClient(port); WireClient io = new WireClient(port)) {
            int cntlid = connectAdmin(admin, nqn, 0);
            connectIo(io, nqn, cntlid, 1);
            io.send(new Pdu.CapsuleCommand(write(9, 400, 4096, bs, true), Unpooled.wrappedBuffer(pattern(4096, 0x55))));
            await().atMost(Duration.ofSeconds(30)).until(() -> gated.arrived.getCount() == 0);
            assertThat(abort(admin, 3, 1, 9) & 1).as("at the device: not aborted").isEqualTo(1);
            gated.gate.complete(null);
            assertThat(response(io, 9).completion().isSuccess()).isTrue();
            assertThat(readOverWire(io, 10, 400, 4096, bs)).isEqualTo(pattern(4096, 0x55));
        }
    }

    /** The PDU's bytes with the data digest (its last 4 bytes) spoiled. */
    private static byte[] withBadDataDigest(WireClient c, Pdu pdu) {
        byte[] b = WireClient.bytes(c.format, pdu);
        b[b.length - 1] ^= 0x5A;
        return b;
    }

    @Test
    void dataDigestErrorFailsThatCommandOnlyAndNothingIsWritten() throws IOException {
        int bs = disk.blockSize();
        disk.write(500L * bs, ByteBuffer.wrap(pattern(4096, 0x33))).join();
        disk.write(520L * bs, ByteBuffer.wrap(pattern(8192, 0x34))).join();
        try (WireClient admin = new WireClient(port); WireClient io = new WireClient(port)) {
            int cntlid = connectAdmin(admin, NQN, 0);
            connectIo(io, NQN, cntlid, 1, true);

            // In-capsule write with a bad DDGST.
            io.sendRaw(withBadDataDigest(io, new Pdu.CapsuleCommand(write(5, 500, 4096, bs, true), Unpooled.wrappedBuffer(pattern(4096, 0xEE)))));
            assertThat(response(io, 5).completion().status()).isEqualTo(NvmeStatus.TRANSIENT_TRANSPORT_ERROR);

            // R2T write sent as two H2CData PDUs; the first has a bad DDGST, the second (already on its way) is dropped.
            io.send(new Pdu.CapsuleCommand(write(6, 520, 8192, bs, false), null));
            Pdu.R2T r2t = (Pdu.R2T) io.receive();
            assertThat(r2t.r2tl()).isEqualTo(8192);
            io.sendRaw(withBadDataDigest(io, new Pdu.H2CData(6, r2t.ttag(), 0, false, Unpooled.wrappedBuffer(pattern(4096, 0xEE)))));
            io.send(new Pdu.H2CData(6, r2t.ttag(), 4096, true, Unpooled.wrappedBuffer(pattern(4096, 0xEE))));
            assertThat(response(io, 6).completion().status()).isEqualTo(NvmeStatus.TRANSIENT_TRANSPORT_ERROR);

            // The next commands on the same connection work, and nothing of the corrupted writes reached the device.
            io.send(new Pdu.CapsuleCommand(write(7, 540, 4096, bs, true), Unpooled.wrappedBuffer(pattern(4096, 0x44))));
            assertThat(response(io, 7).completion().isSuccess()).isTrue();
            assertThat(readOverWire(io, 5, 500, 4096, bs)).isEqualTo(pattern(4096, 0x33));
            assertThat(readOverWire(io, 6, 520, 8192, bs)).isEqualTo(pattern(8192, 0x34));
            assertThat(readOverWire(io, 8, 540, 4096, bs)).isEqualTo(pattern(4096, 0x44));
            ByteBuffer local = DmaBuffers.allocate(8192);
            disk.read(520L * bs, local).join();
            assertThat(local).isEqualTo(ByteBuffer.wrap(pattern(8192, 0x34)));
        }
    }

    @Test
    void keepAliveExpiryTearsTheControllerDown() throws IOException {
        try (WireClient c = new WireClient(port)) {
            c.socket.setSoTimeout(10_000);
            long t0 = System.nanoTime(); // before any command: the target's keep-alive clock starts after it
            connectAdmin(c, NQN, 400);
            assertThat(target.subsystem(NQN).controllers()).hasSize(1);
            assertThat(c.closedByPeer()).as("target closed the admin queue").isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("not before the keep-alive timeout").isGreaterThanOrEqualTo(Duration.ofMillis(400));
            await().atMost(Duration.ofSeconds(5)).until(() -> target.subsystem(NQN).controllers().isEmpty());
        }
    }

    @Test
    void commandOnAnUnconnectedQueueClosesTheConnection() throws IOException {
        try (WireClient c = new WireClient(port)) {
            c.initialize();
            Pdu.CapsuleResponse r = c.command(NvmeCommand.of(0x06, 0, 1, 0, 0, 0, 0, 0).withCid(9).withSgl(NvmeCommand.SGL_TRANSPORT, 4096));
            assertThat(r.completion().status()).isEqualTo(NvmeStatus.COMMAND_SEQUENCE_ERROR);
            assertThat(c.closedByPeer()).isTrue();
        }
    }

    @Test
    void badHeaderDigestGetsATermReq() throws IOException {
        try (WireClient c = new WireClient(port)) {
            c.send(new Pdu.IcReq(0, 0, true, false, 0));
            assertThat(c.receive()).isInstanceOf(Pdu.IcResp.class);
            c.format.initialize(true, false, 0);
            byte[] b = WireClient.bytes(c.format, WireClient.connectCapsule(1, NQN, HOST, 0));
            b[72] ^= 0x55; // corrupt HDGST
            c.sendRaw(b);
            Pdu p = c.receive();
            assertThat(p).isInstanceOf(Pdu.TermReq.class);
            assertThat(((Pdu.TermReq) p).fes()).isEqualTo(0x03);
            p.release();
            assertThat(c.closedByPeer()).isTrue();
        }
    }

    /** Valid PDUs of every kind a host sends, as templates for mutation. */
    private static List<byte[]> templates() {
        PduFormat f = new PduFormat(false, 0, 0, 1 << 20);
        f.initialize(false, false, 0);
        List<byte[]> t = new ArrayList<>();
        t.add(WireClient.bytes(f, WireClient.connectCapsule(1, NQN, HOST, 0)));
        t.add(WireClient.bytes(f, new Pdu.CapsuleCommand(propertySet(2, 0x14, 1 | (6 << 16) | (4 << 20)), null)));
        t.add(WireClient.bytes(f, new Pdu.CapsuleCommand(NvmeCommand.of(0x06, 1, 0, 0, 0, 0, 0, 0).withCid(3).withSgl(NvmeCommand.SGL_TRANSPORT, 4096), null)));
        t.add(WireClient.bytes(f, new Pdu.CapsuleCommand(NvmeCommand.of(0x02, 1, 8, 0, 0, 0, 0, 0).withCid(4).withSgl(NvmeCommand.SGL_TRANSPORT, 4096), null)));
        t.add(WireClient.bytes(f, new Pdu.CapsuleCommand(NvmeCommand.of(0x01, 1, 16, 0, 0, 0, 0, 0).withCid(5)
                .withSgl(NvmeCommand.SGL_IN_CAPSULE, 4096), Unpooled.wrappedBuffer(new byte[4096]))));
        t.add(WireClient.bytes(f, new Pdu.CapsuleCommand(NvmeCommand.of(0x01, 1, 16, 0, 15, 0, 0, 0).withCid(6)
                .withSgl(NvmeCommand.SGL_TRANSPORT, 65536), null)));
        t.add(WireClient.bytes(f, new Pdu.H2CData(6, 6, 0, true, Unpooled.wrappedBuffer(new byte[8192]))));
        t.add(WireClient.bytes(f, new Pdu.CapsuleCommand(NvmeCommand.of(0x02, 0, 0x02 | (127 << 16), 0, 0, 0, 0, 0).withCid(7)
                .withSgl(NvmeCommand.SGL_TRANSPORT, 512), null)));
        t.add(WireClient.bytes(f, new Pdu.TermReq(true, 1, 0, null)));
        return t;
    }

    /** Decodes what a target sent on one connection (ICResp first, if any) and counts its C2HTermReqs. */
    private static int termReqsIn(byte[] stream) {
        PduFormat f = new PduFormat(false, 0, 0, 1 << 20);
        io.netty.channel.embedded.EmbeddedChannel dec = new io.netty.channel.embedded.EmbeddedChannel(new io.javastor.ioengine.nvmf.pdu.PduDecoder(f));
        ByteBuf all = Unpooled.wrappedBuffer(stream);
        int ic = 128; // ICResp is fixed-size (NVMe/TCP 1.0, 3.6.2.3); after it the stream is framed by the negotiated format
        if (all.readableBytes() >= ic && all.getByte(0) == 0x01) {
            dec.writeInbound(all.readRetainedSlice(ic));
            Pdu.IcResp r = dec.readInbound();
            f.initialize(r.headerDigest(), r.dataDigest(), r.cpda());
        }
        dec.writeInbound(all);
        int terms = 0;
        for (Pdu p = dec.readInbound(); p != null; p = dec.readInbound()) {
            if (p instanceof Pdu.TermReq) {
                terms++;
            }
            p.release();
        }
        dec.finishAndReleaseAll();
        return terms;
    }

    @Test
    void fuzzedPdusNeverTakeTheTargetDown() throws Exception {
        byte[] icReq = WireClient.bytes(new PduFormat(false, 0, 0, 0), new Pdu.IcReq(0, 0, false, false, 0));
        List<byte[]> templates = templates();
        AtomicLong pdus = new AtomicLong();
        AtomicLong termReqs = new AtomicLong();
        AtomicLong resets = new AtomicLong();
        AtomicLong cutShort = new AtomicLong();
        int threads = 4;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long seed = t;
            fs.add(pool.submit(() -> {
                SplittableRandom rnd = new SplittableRandom(seed);
                while (pdus.get() < 100_000 && System.nanoTime() < deadline) {
                    try (WireClient c = new WireClient(port)) {
                        c.socket.setSoLinger(true, 0);
                        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                        if (rnd.nextInt(10) != 0) {
                            out.write(icReq);
                            out.write(templates.get(0));
                            out.write(templates.get(1));
                        }
                        int n = 40;
                        for (int i = 0; i < n; i++) {
                            byte[] p;
                            if (rnd.nextInt(4) == 0) {
                                p = new byte[rnd.nextInt(1, 200)];
                                for (int j = 0; j < p.length; j++) {
                                    p[j] = (byte) rnd.nextInt();
                                }
                            } else {
                                p = templates.get(rnd.nextInt(templates.size())).clone();
                                int flips = rnd.nextInt(1, 4);
                                for (int k = 0; k < flips; k++) {
                                    int at = rnd.nextInt(rnd.nextBoolean() ? Math.min(p.length, 80) : p.length);
                                    p[at] = (byte) rnd.nextInt();
                                }
                                if (rnd.nextInt(8) == 0) {
                                    p = java.util.Arrays.copyOf(p, rnd.nextInt(1, p.length)); // truncated
                                }
                            }
                            out.write(p);
                        }
                        pdus.addAndGet(n);
                        try {
                            c.sendRaw(out.toByteArray());
                            c.socket.shutdownOutput(); // the target reads to our end, answers, then sees EOF and closes
                        } catch (IOException closedEarly) {
                            // The target closed (a fatal protocol error) before reading everything: still read its answers.
                            cutShort.incrementAndGet();
                        }
                        // Everything the target sends must decode as well-formed PDUs (the decoder throws otherwise,
                        // failing the test); fatal errors are answered with a C2HTermReq as the spec asks.
                        byte[] answer;
                        try {
                            answer = c.socket.getInputStream().readAllBytes();
                        } catch (java.net.SocketException reset) {
                            resets.incrementAndGet(); // the target closed while we still sent: nothing more to read
                            answer = new byte[0];
                        }
                        termReqs.addAndGet(termReqsIn(answer));
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(pdus.get()).isGreaterThanOrEqualTo(100_000);
        assertThat(termReqs.get()).as("the fuzz reached the target's fatal-error path (C2HTermReq sent; %d sends cut short, %d resets)",
                cutShort.get(), resets.get())
                .isPositive();
        // nothing of the fuzzed connections is left held: no write buffer waits for data that will never come
        await().atMost(Duration.ofSeconds(10)).until(() -> target.dataBytesHeld() == 0);
        // a clean host still gets correct service
        try (NvmfBlockDevice dev = NvmfBlockDevice.connect("nvmf://127.0.0.1:" + port + "/" + NQN, NvmfHostOptions.defaults(HOST).withQueues(2, 32))) {
            ByteBuffer data = DmaBuffers.allocate(65536);
            new SplittableRandom(3).ints(16384).forEach(v -> data.putInt(v));
            data.clear();
            dev.write(1 << 20, data).join();
            ByteBuffer back = DmaBuffers.allocate(65536);
            dev.read(1 << 20, back).join();
            assertThat(back).isEqualTo(data);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> target.subsystem(NQN).controllers().isEmpty());
    }
}
