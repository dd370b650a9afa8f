package io.javastor.ioengine.nvmf;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.nvmf.auth.DhchapKeys;
import io.javastor.ioengine.nvmf.auth.DhchapSecret;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import io.javastor.ioengine.nvmf.pdu.AnaState;
import io.javastor.ioengine.nvmf.pdu.NvmeCommand;
import io.javastor.ioengine.nvmf.pdu.NvmeOpcode;
import io.javastor.ioengine.nvmf.pdu.NvmeProperty;
import io.javastor.ioengine.nvmf.pdu.NvmeStatus;
import io.javastor.ioengine.nvmf.pdu.Pdu;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.nvmf.tgt.NvmfTargetOptions;
import io.javastor.ioengine.reservation.NamespaceReservations;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * What SPDK's NVMe/TCP host (its perf tool, the initiator of a Mayastor nexus) does that our own host does not, on the
 * wire against our target (issue 19): it may connect without a host NQN, which the Linux and SPDK targets accept where
 * any host may connect and refuse where hosts are listed; and at detach it completes its outstanding Asynchronous Event
 * Requests itself and reuses their command ids for the shutdown, which must not cost it the admin connection. Every
 * refused Connect is in the log with its reason.
 */
class NvmfHostInteropWireTest {
    static final String OPEN = "nqn.2019-05.io.javastor:interop-open";
    static final String LISTED = "nqn.2019-05.io.javastor:interop-listed";
    static final String AUTHENTICATED = "nqn.2019-05.io.javastor:interop-auth";
    static final String HOST = "nqn.2019-05.io.javastor:node-name:interop";
    static final String STRANGER = "nqn.2019-05.io.javastor:node-name:stranger";

    /** The target's log lines (Connect refusals, retired event requests), as formatted messages. */
    static final class Captured extends AppenderBase<ILoggingEvent> {
        final List<String> lines = new CopyOnWriteArrayList<>();

        @Override
        protected void append(ILoggingEvent e) {
            lines.add(e.getFormattedMessage());
        }
    }

    BlockDeviceFactory factory;
    BlockDevice disk;
    NvmfTarget target;
    int port;
    final Captured log = new Captured();
    final List<Logger> watched = List.of((Logger) LoggerFactory.getLogger("io.javastor.ioengine.nvmf.tgt.FabricsCommands"),
            (Logger) LoggerFactory.getLogger("io.javastor.ioengine.nvmf.tgt.TransportQueue"));
    final List<Level> levels = new java.util.ArrayList<>();

    @BeforeEach
    void start() {
        // The test configuration logs WARN and up; these lines are INFO, as in the io-engine's own configuration.
        log.start();
        for (Logger l : watched) {
            levels.add(l.getLevel());
            l.setLevel(Level.INFO);
            l.addAppender(log);
        }
        factory = BlockDeviceFactory.withDefaults();
        disk = factory.open("malloc:///nvmf-interop?size_mb=16");
        target = new NvmfTarget(NvmfTargetOptions.defaults().withEventLoopThreads(2));
        port = target.start("127.0.0.1", 0).getPort();
        target.addSubsystem(OPEN, disk, "IOP1", "Javastor interop", Set.of());
        target.addSubsystem(LISTED, disk, "IOP2", "Javastor interop", Set.of(HOST));
        // Secrets and no allowed-hosts list: only hosts holding a secret may connect.
        SecureRandom random = new SecureRandom();
        target.addSubsystem(AUTHENTICATED, disk, "IOP3", "Javastor interop", Set.of(), NamespaceReservations.inMemory(AUTHENTICATED),
                Map.of(HOST, new DhchapKeys(DhchapSecret.generate(random), null)));
    }

    @AfterEach
    void stop() {
        target.close();
        disk.close();
        factory.close();
        for (int i = 0; i < watched.size(); i++) {
            watched.get(i).detachAppender(log);
            watched.get(i).setLevel(levels.get(i));
        }
    }

    private Pdu.CapsuleResponse connect(WireClient c, String subnqn, String hostnqn) throws IOException {
        c.initialize();
        c.send(WireClient.connectCapsule(1, subnqn, hostnqn, 0));
        return (Pdu.CapsuleResponse) c.receive();
    }

    /** The log line of the refusal of {@code hostShown} on {@code nqn}, once it is there. */
    private String refusal(String nqn, String hostShown) {
        String prefix = "connect refused: nqn=" + nqn + " host=" + hostShown + " ";
        await("the log says why " + hostShown + " was refused on " + nqn).atMost(Duration.ofSeconds(10))
                .until(() -> log.lines.stream().anyMatch(l -> l.startsWith(prefix)));
        return log.lines.stream().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow();
    }

    @Test
    void aHostWithoutAHostNqnConnectsWhereAnyHostMayAndItsIoWorks() throws IOException {
        try (WireHost h = new WireHost(port, OPEN, "", disk.blockSize())) { // admin and I/O queue, both with an empty HOSTNQN
            assertThat(h.write(3, 0x3C)).isEqualTo(NvmeStatus.SUCCESS);
            assertThat(h.read(3)).isEqualTo(0x3C);
            assertThat(target.subsystem(OPEN).controllers()).singleElement()
                    .satisfies(c -> assertThat(c.hostNqn()).isEmpty());
        }
        assertThat(log.lines).as("nothing refused").noneMatch(l -> l.startsWith("connect refused"));
    }

    @Test
    void whereHostsAreListedOrAuthenticateAnEmptyOrUnknownHostNqnIsRefusedAsLinuxDoesAndTheLogSaysWhy() throws IOException {
        for (String nqn : List.of(LISTED, AUTHENTICATED)) {
            try (WireClient c = new WireClient(port)) {
                Pdu.CapsuleResponse r = connect(c, nqn, "");
                // Linux's nvmet_alloc_ctrl: Connect Invalid Host (DNR), IATTR 1 (in the data) and IPO 512 (HOSTNQN).
                assertThat(r.completion().status()).as(nqn + ": " + NvmeStatus.describe(r.completion().status()))
                        .isEqualTo(NvmeStatus.CONNECT_INVALID_HOST);
                assertThat(r.completion().dw0()).as("IATTR | IPO").isEqualTo((1 << 16) | 512);
                // The connection stays usable for another Connect, as a refused Connect leaves it.
                c.send(WireClient.connectCapsule(2, OPEN, HOST, 0));
                assertThat(((Pdu.CapsuleResponse) c.receive()).completion().isSuccess()).as("then a Connect to the open subsystem").isTrue();
            }
            assertThat(target.subsystem(nqn).controllers()).as("no controller on " + nqn).isEmpty();
        }
        assertThat(refusal(LISTED, "\"\"")).contains("reason=\"no host NQN given, and the subsystem admits only named hosts (its allowed hosts)\"")
                .contains("status=\"sct=1 sc=0x84 dnr\"").contains("qid=0").contains("from=/127.0.0.1:");
        assertThat(refusal(AUTHENTICATED, "\"\"")).contains("(those with a DH-HMAC-CHAP secret)");

        // Our own host, under a name the lists do not hold: refused, and the log names it and says why.
        NvmfHostOptions stranger = NvmfHostOptions.defaults(STRANGER);
        assertThatThrownBy(() -> NvmfBlockDevice.connect("nvmf://127.0.0.1:" + port + "/" + LISTED, stranger))
                .isInstanceOf(BlockIoException.class).hasMessageContaining("not allowed");
        assertThat(refusal(LISTED, STRANGER)).contains("reason=\"not in the subsystem's allowed hosts\"");
        assertThatThrownBy(() -> NvmfBlockDevice.connect("nvmf://127.0.0.1:" + port + "/" + AUTHENTICATED, stranger))
                .isInstanceOf(BlockIoException.class).hasMessageContaining("not allowed");
        assertThat(refusal(AUTHENTICATED, STRANGER)).contains("reason=\"the subsystem requires DH-HMAC-CHAP and holds no secret for this host\"");
    }

    @Test
    void otherRefusedConnectsAreLoggedWithTheirReasonToo() throws IOException {
        String missing = "nqn.2019-05.io.javastor:interop-missing";
        try (WireClient c = new WireClient(port)) {
            Pdu.CapsuleResponse r = connect(c, missing, HOST);
            assertThat(NvmeStatus.is(r.completion().status(), NvmeStatus.CONNECT_INVALID_PARAMETERS)).isTrue();
        }
        assertThat(refusal(missing, HOST)).contains("reason=\"no such subsystem here\"");
        try (WireClient c = new WireClient(port)) {
            c.initialize();
            // An I/O queue of a controller that does not exist.
            NvmeCommand io = NvmeCommand.of(NvmeOpcode.FABRICS, NvmeOpcode.FCTYPE_CONNECT, 1 << 16, 31, 0, 0, 0, 0).withCid(1)
                    .withSgl(NvmeCommand.SGL_IN_CAPSULE, 1024);
            c.send(new Pdu.CapsuleCommand(io, Unpooled.wrappedBuffer(WireClient.connectData(OPEN, HOST, 0x1234))));
            assertThat(NvmeStatus.is(((Pdu.CapsuleResponse) c.receive()).completion().status(), NvmeStatus.CONNECT_INVALID_PARAMETERS)).isTrue();
        }
        assertThat(refusal(OPEN, HOST)).contains("qid=1").contains("reason=\"no controller 4660\"");
    }

    private static NvmeCommand asyncEventRequest(int cid) {
        return NvmeCommand.of(NvmeOpcode.ASYNC_EVENT_REQUEST, 0, 0, 0, 0, 0, 0, 0).withCid(cid).withSgl(NvmeCommand.SGL_TRANSPORT, 0);
    }

    private static NvmeCommand propertySet(int cid, int ofst, int value) {
        return NvmeCommand.of(NvmeOpcode.FABRICS, NvmeOpcode.FCTYPE_PROPERTY_SET, 0, ofst, value, 0, 0, 0).withCid(cid)
                .withSgl(NvmeCommand.SGL_TRANSPORT, 0);
    }

    private static NvmeCommand propertyGet(int cid, int ofst) {
        return NvmeCommand.of(NvmeOpcode.FABRICS, NvmeOpcode.FCTYPE_PROPERTY_GET, 0, ofst, 0, 0, 0, 0).withCid(cid)
                .withSgl(NvmeCommand.SGL_TRANSPORT, 0);
    }

    /**
     * SPDK's detach, on the wire: Async Event Requests outstanding, then the shutdown notification (Property Set CC.SHN)
     * under the id of one of them. The target takes the new command, drops the request whose id it reuses (it never
     * completes it: that completion would now name the shutdown), reports the shutdown complete and keeps the
     * connection. Before that, a reused id is shown to retire its request for good: the next event goes to a request
     * the host still holds. An Abort of an outstanding request completes it with Abort Requested, as SPDK's target does.
     */
    @Test
    void anOutstandingAsyncEventRequestNeverBlocksItsCommandIdSoTheShutdownAtDetachCompletes() throws IOException {
        try (WireHost h = new WireHost(port, OPEN, HOST, disk.blockSize())) {
            WireClient admin = h.admin;
            NvmeCommand anaNotices = NvmeCommand.of(NvmeOpcode.SET_FEATURES, 0, NvmeOpcode.FEATURE_ASYNC_EVENT_CONFIG, 1 << 11, 0, 0, 0, 0)
                    .withCid(3).withSgl(NvmeCommand.SGL_TRANSPORT, 0);
            assertThat(admin.command(anaNotices).completion().isSuccess()).isTrue();

            // 1. Id 20 held by a request, then reused by Keep Alive: answered, the connection stays.
            admin.send(new Pdu.CapsuleCommand(asyncEventRequest(20), null));
            Pdu.CapsuleResponse keepAlive = admin.command(NvmeCommand.of(NvmeOpcode.KEEP_ALIVE, 0, 0, 0, 0, 0, 0, 0).withCid(20)
                    .withSgl(NvmeCommand.SGL_TRANSPORT, 0));
            assertThat(keepAlive.completion().cid()).isEqualTo(20);
            assertThat(keepAlive.completion().isSuccess()).as(NvmeStatus.describe(keepAlive.completion().status())).isTrue();
            // ... and the request is gone: the next event completes request 21, not 20.
            admin.send(new Pdu.CapsuleCommand(asyncEventRequest(21), null));
            assertThat(target.anaState(OPEN, AnaState.INACCESSIBLE)).isTrue();
            Pdu.CapsuleResponse notice = WireHost.response(admin, 21);
            assertThat(notice.completion().dw0()).as("ANA change notice").isEqualTo(0x2 | (0x03 << 8) | (0x0C << 16));

            // 2. Abort of an outstanding request (SQID 0): the request completes with Abort Requested, the Abort says "aborted".
            admin.send(new Pdu.CapsuleCommand(asyncEventRequest(30), null));
            admin.send(new Pdu.CapsuleCommand(NvmeCommand.of(NvmeOpcode.ABORT, 0, 30 << 16, 0, 0, 0, 0, 0).withCid(31)
                    .withSgl(NvmeCommand.SGL_TRANSPORT, 0), null));
            assertThat(WireHost.response(admin, 30).completion().status()).isEqualTo(NvmeStatus.ABORT_REQUESTED);
            assertThat(WireHost.response(admin, 31).completion().dw0() & 1).as("Abort dw0 bit 0: 0 = aborted").isZero();

            // 3. The detach: requests 40 and 41 outstanding, the shutdown notification under id 40, CSTS under id 41.
            admin.send(new Pdu.CapsuleCommand(asyncEventRequest(40), null));
            admin.send(new Pdu.CapsuleCommand(asyncEventRequest(41), null));
            Pdu.CapsuleResponse shutdown = admin.command(propertySet(40, NvmeProperty.CC,
                    NvmeProperty.CC_EN | NvmeProperty.CC_IOSQES_64_IOCQES_16 | NvmeProperty.CC_SHN_NORMAL));
            assertThat(shutdown.completion().cid()).isEqualTo(40);
            assertThat(shutdown.completion().isSuccess()).as("CC.SHN " + NvmeStatus.describe(shutdown.completion().status())).isTrue();
            int[] csts = new int[1];
            await("CSTS.SHST shutdown complete").atMost(Duration.ofSeconds(10)).until(() -> {
                Pdu.CapsuleResponse r = admin.command(propertyGet(41, NvmeProperty.CSTS));
                assertThat(r.completion().cid()).as("no completion for a dropped request comes first").isEqualTo(41);
                csts[0] = r.completion().dw0();
                return (csts[0] & NvmeProperty.CSTS_SHST_MASK) == NvmeProperty.CSTS_SHST_COMPLETE;
            });
            assertThat(admin.socket.isClosed()).isFalse();
        }
        assertThat(log.lines).as("the target says why it took a reused id")
                .anyMatch(l -> l.contains("command id 20 (opcode 0x18) reuses the id of an outstanding Asynchronous Event Request"))
                .anyMatch(l -> l.contains("command id 40 (opcode 0x7f) reuses the id"))
                .noneMatch(l -> l.contains("already in flight"));
    }
}
