package io.javastor.ioengine.nvmf.tgt;

import io.javastor.ioengine.nvmf.pdu.NvmeCommand;
import io.javastor.ioengine.nvmf.pdu.NvmeOpcode;
import io.javastor.ioengine.nvmf.pdu.NvmeProperty;
import io.javastor.ioengine.nvmf.pdu.NvmeStatus;
import io.javastor.ioengine.nvmf.auth.DhGroup;
import io.javastor.ioengine.nvmf.auth.DhchapControllerExchange;
import io.javastor.ioengine.nvmf.auth.DhchapHash;
import io.javastor.ioengine.nvmf.auth.DhchapKeys;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Fabrics commands (NVMe-oF 1.1, 3.3 Connect and 3.4 Property Get/Set; base 2.0, 6.2/6.3 Authentication Send/Receive):
 * Connect turns a connection into the admin queue of a new controller or an I/O queue of an existing one; the
 * properties are the controller registers a fabrics host reads and writes instead of memory-mapped ones; the
 * authentication commands carry DH-HMAC-CHAP when the subsystem holds a secret for the host.
 */
final class FabricsCommands implements CommandSet {
    private static final Logger LOG = LoggerFactory.getLogger(FabricsCommands.class);
    /** Connect data (NVMe-oF 1.1, figure 20): HOSTID, CNTLID, SUBNQN and HOSTNQN. */
    private static final int CONNECT_DATA_SIZE = 1024;
    private static final int CONNECT_HOSTID = 0;
    private static final int CONNECT_CNTLID = 16;
    private static final int CONNECT_SUBNQN = 256;
    private static final int CONNECT_HOSTNQN = 512;
    /** Connect CDW11 CATTR bit 2: the host disables submission queue flow control. */
    private static final int CATTR_SQ_FLOW_CONTROL_DISABLE = 0x04;
    /** Connect response DW0 bit 17, AUTHREQ.ATR: the host must authenticate with DH-HMAC-CHAP before anything else. */
    private static final int CONNECT_AUTHREQ_ATR = 1 << 17;
    /** The largest DH-HMAC-CHAP message: a Reply with two 64-byte values and an 8192-bit DH value. */
    private static final int MAX_AUTH_MESSAGE = 16 + 2 * 64 + 1024;
    /**
     * What we accept, most preferred first: the strongest hash, and ffdhe3072 before the mandatory ffdhe2048 (the
     * larger groups cost a host tens of milliseconds per queue); NULL last, for hosts without DH (the secret still
     * proves the host, without the DH exchange's protection of recorded transactions).
     */
    static final List<DhchapHash> ACCEPTED_HASHES = List.of(DhchapHash.SHA512, DhchapHash.SHA384, DhchapHash.SHA256);
    static final List<DhGroup> ACCEPTED_GROUPS = List.of(DhGroup.FFDHE3072, DhGroup.FFDHE2048, DhGroup.FFDHE4096, DhGroup.FFDHE6144,
            DhGroup.FFDHE8192, DhGroup.NULL);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** A discovery controller's admin queue is small: it only serves the discovery log. */
    private static final int DISCOVERY_QUEUE_ENTRIES = 32;

    private final NvmfTarget target;
    private final TransportQueue queue;

    FabricsCommands(NvmfTarget target, TransportQueue queue) {
        this.target = target;
        this.queue = queue;
    }

    @Override
    public void execute(NvmeCommand cmd, ByteBuf data) {
        try {
            switch (cmd.fctype()) {
                case NvmeOpcode.FCTYPE_CONNECT -> connect(cmd, data);
                case NvmeOpcode.FCTYPE_PROPERTY_GET -> propertyGet(cmd);
                case NvmeOpcode.FCTYPE_PROPERTY_SET -> propertySet(cmd);
                case NvmeOpcode.FCTYPE_AUTH_SEND -> authenticationSend(cmd, data);
                case NvmeOpcode.FCTYPE_AUTH_RECEIVE -> authenticationReceive(cmd);
                default -> queue.respond(cmd.cid(), NvmeStatus.INVALID_OPCODE);
            }
        } finally {
            if (data != null) {
                data.release();
            }
        }
    }

    private static String cString(ByteBuf b, int at, int len) {
        int end = at;
        while (end < at + len && b.getByte(end) != 0) {
            end++;
        }
        return b.toString(at, end - at, StandardCharsets.UTF_8).trim();
    }

    /**
     * Connect (3.3): CDW10 RECFMT 15:0 and QID 31:16, CDW11 SQSIZE 15:0 and CATTR 23:16, CDW12 KATO.
     *
     * <p>An empty HOSTNQN is accepted where any host may connect: the Linux target ({@code nvmet_alloc_ctrl}) and
     * SPDK's ({@code nvmf_ctrlr_cmd_connect}) only check it against the allowed hosts, and hosts that were given no
     * host NQN (older SPDK initiators, its perf tool) send it empty. A subsystem with an allowed-hosts list or
     * DH-HMAC-CHAP secrets names no empty host, so there it is refused with Connect Invalid Host, as Linux does.
     * Every refusal is logged with its reason ({@link #refuse}): a host only sees a status code.
     */
    private void connect(NvmeCommand cmd, ByteBuf data) {
        int cid = cmd.cid();
        int q = cmd.cdw10() >>> 16;
        if (queue.qid() >= 0) {
            Controller bound = queue.controller();
            refuse(cid, NvmeStatus.COMMAND_SEQUENCE_ERROR, 0, bound.subsystem().nqn(), bound.hostNqn(), q,
                    "this connection is already queue " + queue.qid() + " of controller " + bound.cntlid());
            return;
        }
        if (data == null || data.readableBytes() < CONNECT_DATA_SIZE) {
            refuse(cid, NvmeStatus.DATA_SGL_LENGTH_INVALID, 0, "?", "?", q,
                    "connect data of " + (data == null ? 0 : data.readableBytes()) + " bytes, " + CONNECT_DATA_SIZE + " expected");
            return;
        }
        int recfmt = cmd.cdw10() & 0xFFFF;
        int sqsizeWanted = cmd.cdw11() & 0xFFFF;
        int cattr = (cmd.cdw11() >>> 16) & 0xFF;
        boolean sqFlowControlDisabled = (cattr & CATTR_SQ_FLOW_CONTROL_DISABLE) != 0;
        long kato = Integer.toUnsignedLong(cmd.cdw12());
        int base = data.readerIndex();
        UUID hostId = new UUID(data.getLong(base + CONNECT_HOSTID), data.getLong(base + CONNECT_HOSTID + 8));
        int cntlid = data.getUnsignedShortLE(base + CONNECT_CNTLID);
        String subnqn = cString(data, base + CONNECT_SUBNQN, 256);
        String hostnqn = cString(data, base + CONNECT_HOSTNQN, 256);
        if (recfmt != 0) {
            refuse(cid, NvmeStatus.CONNECT_INCOMPATIBLE_FORMAT, 0, subnqn, hostnqn, q, "record format " + recfmt + " (only 0 exists)");
            return;
        }
        Subsystem sub = target.subsystem(subnqn);
        if (sub == null) {
            // Without Do Not Retry: after an io-engine restart a volume's subsystem is absent for the seconds until the
            // core agent re-creates its target, and a host that obeys DNR (newer Linux) would stop reconnecting for good.
            refuse(cid, NvmeStatus.retryable(NvmeStatus.CONNECT_INVALID_PARAMETERS), invalidParameter(true, CONNECT_SUBNQN), subnqn,
                    hostnqn, q, "no such subsystem here");
            return;
        }
        if (!sub.allows(hostnqn)) {
            refuse(cid, NvmeStatus.CONNECT_INVALID_HOST, invalidParameter(true, CONNECT_HOSTNQN), subnqn, hostnqn, q, whyNotAllowed(sub, hostnqn));
            return;
        }
        int maxSqsize = (q == 0 && sub.isDiscovery() ? DISCOVERY_QUEUE_ENTRIES : target.options().queueEntries()) - 1;
        if (sqsizeWanted == 0 || sqsizeWanted > maxSqsize) {
            refuse(cid, NvmeStatus.CONNECT_INVALID_PARAMETERS, invalidParameter(false, 44), subnqn, hostnqn, q,
                    "SQSIZE " + sqsizeWanted + " (0's based) outside 1.." + maxSqsize);
            return;
        }
        Controller c = q == 0
                ? connectAdminQueue(cid, sub, cntlid, hostnqn, hostId, kato)
                : connectIoQueue(cid, sub, q, cntlid, hostnqn, hostId);
        if (c == null) {
            return; // answered
        }
        queue.bind(c, q, sqsizeWanted, sqFlowControlDisabled);
        DhchapKeys keys = sub.keysOf(hostnqn);
        if (keys != null) {
            // Every queue authenticates on its own (NVMe base 2.0, 8.13.4); until then it takes only Authentication Send/Receive.
            queue.requireAuthentication(new DhchapControllerExchange(keys, hostnqn, subnqn, ACCEPTED_HASHES, ACCEPTED_GROUPS, RANDOM));
        }
        if (q == 0) {
            c.keepAliveTimeout(kato);
            LOG.info("nqn={} cntlid={} host={} admin queue connected from {} (SQSIZE {}, KATO {} ms)",
                    subnqn, c.cntlid(), shown(hostnqn), queue.remoteAddress(), sqsizeWanted, kato);
        } else {
            LOG.debug("nqn={} cntlid={} qid={} I/O queue connected (SQSIZE {})", subnqn, c.cntlid(), q, sqsizeWanted);
        }
        queue.respond(cid, NvmeStatus.SUCCESS, c.cntlid() | (keys != null ? CONNECT_AUTHREQ_ATR : 0), 0);
    }

    /** Why {@link Subsystem#allows} said no, in words an operator can act on. */
    private static String whyNotAllowed(Subsystem sub, String hostnqn) {
        Set<String> allowed = sub.allowedHosts();
        if (hostnqn.isEmpty()) {
            return "no host NQN given, and the subsystem admits only named hosts ("
                    + (allowed.isEmpty() ? "those with a DH-HMAC-CHAP secret" : "its allowed hosts") + ")";
        }
        if (!allowed.isEmpty() && !allowed.contains(hostnqn)) {
            return "not in the subsystem's allowed hosts";
        }
        return "the subsystem requires DH-HMAC-CHAP and holds no secret for this host";
    }

    /**
     * Answers a Connect with an error and says why in the log, one line per refusal with the same keys (subsystem,
     * host, queue, peer, status, reason): the host sees only the status, and an empty host NQN shows as {@code ""}.
     */
    private void refuse(int cid, int status, int dw0, String subnqn, String hostnqn, int qid, String reason) {
        LOG.info("connect refused: nqn={} host={} qid={} from={} status=\"{}\" reason=\"{}\"", subnqn, shown(hostnqn), qid,
                queue.remoteAddress(), NvmeStatus.describe(status), reason);
        queue.respond(cid, status, dw0, 0);
    }

    /** A host NQN as logged: an empty one (allowed by the wire format) as {@code ""}, so it stands out. */
    private static String shown(String hostnqn) {
        return hostnqn.isEmpty() ? "\"\"" : hostnqn;
    }

    /** Authentication Send (NVMe base 2.0, 6.2): a DH-HMAC-CHAP message from the host, TL bytes of data. */
    private void authenticationSend(NvmeCommand cmd, ByteBuf data) {
        DhchapControllerExchange auth = queue.authentication();
        if (auth == null || queue.qid() < 0) {
            queue.respond(cmd.cid(), NvmeStatus.COMMAND_SEQUENCE_ERROR);
            return;
        }
        if (cmd.cdw10() != NvmeOpcode.AUTH_CDW10_DHCHAP) {
            queue.respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
            return;
        }
        int tl = cmd.cdw11();
        if (tl <= 0 || data == null || data.readableBytes() != tl || tl > MAX_AUTH_MESSAGE) {
            queue.respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
            return;
        }
        byte[] message = new byte[tl];
        data.getBytes(data.readerIndex(), message);
        boolean before = auth.authenticated();
        auth.send(message);
        if (auth.failed()) {
            logFailed(auth);
            queue.respond(cmd.cid(), NvmeStatus.SUCCESS);
            queue.closeAfterFlush();
            return;
        }
        if (!before && auth.authenticated()) {
            logAuthenticated();
        }
        queue.respond(cmd.cid(), NvmeStatus.SUCCESS);
    }

    /** Authentication Receive (NVMe base 2.0, 6.3): our next DH-HMAC-CHAP message, at most AL bytes. */
    private void authenticationReceive(NvmeCommand cmd) {
        DhchapControllerExchange auth = queue.authentication();
        if (auth == null || queue.qid() < 0) {
            queue.respond(cmd.cid(), NvmeStatus.COMMAND_SEQUENCE_ERROR);
            return;
        }
        int al = cmd.cdw11();
        if (cmd.cdw10() != NvmeOpcode.AUTH_CDW10_DHCHAP || al <= 0 || al != cmd.sglLength()) {
            queue.respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
            return;
        }
        boolean before = auth.authenticated();
        byte[] message = auth.receive();
        if (message.length > al) {
            LOG.warn("nqn={} qid={}: Authentication Receive of {} bytes cannot hold our {}-byte message", queue.controller().subsystem().nqn(),
                    queue.qid(), al, message.length);
            queue.respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
            queue.closeAfterFlush();
            return;
        }
        queue.sendPage(cmd, Unpooled.wrappedBuffer(message), 0, al);
        if (auth.failed()) {
            logFailed(auth);
            queue.closeAfterFlush();
        } else if (!before && auth.authenticated()) {
            logAuthenticated();
        }
    }

    private void logFailed(DhchapControllerExchange auth) {
        Controller c = queue.controller();
        LOG.warn("nqn={} cntlid={} qid={} host={}: authentication failed: {}", c.subsystem().nqn(), c.cntlid(), queue.qid(), c.hostNqn(),
                auth.failure());
    }

    private void logAuthenticated() {
        Controller c = queue.controller();
        LOG.info("nqn={} cntlid={} qid={} host={} authenticated (DH-HMAC-CHAP)", c.subsystem().nqn(), c.cntlid(), queue.qid(), c.hostNqn());
    }

    /** A new dynamic controller (CNTLID FFFFh or FFFEh); null once answered with an error. */
    private Controller connectAdminQueue(int cid, Subsystem sub, int cntlid, String hostnqn, UUID hostId, long kato) {
        if (cntlid != 0xFFFF && cntlid != 0xFFFE) {
            refuse(cid, NvmeStatus.CONNECT_INVALID_PARAMETERS, invalidParameter(true, CONNECT_CNTLID), sub.nqn(), hostnqn, 0,
                    "CNTLID " + cntlid + " on an admin queue (only the dynamic FFFFh or FFFEh)");
            return null;
        }
        Controller c = target.createController(sub, hostnqn, hostId, kato, queue);
        if (c == null) {
            refuse(cid, NvmeStatus.CONNECT_CONTROLLER_BUSY, 0, sub.nqn(), hostnqn, 0,
                    "no controller to be had (the subsystem's controller limit or ids are used up, or it is being removed)");
        }
        return c;
    }

    /** An I/O queue of the same host's enabled controller {@code cntlid}; null once answered with an error. */
    private Controller connectIoQueue(int cid, Subsystem sub, int q, int cntlid, String hostnqn, UUID hostId) {
        Controller c = sub.controller(cntlid);
        if (sub.isDiscovery() || c == null || !c.hostNqn().equals(hostnqn) || !c.hostId().equals(hostId)) {
            int offset = c != null && !c.hostNqn().equals(hostnqn) ? CONNECT_HOSTNQN
                    : c != null && !c.hostId().equals(hostId) ? CONNECT_HOSTID : CONNECT_CNTLID;
            String reason = sub.isDiscovery() ? "a discovery controller has no I/O queues"
                    : c == null ? "no controller " + cntlid
                    : offset == CONNECT_HOSTNQN ? "controller " + cntlid + " belongs to host " + shown(c.hostNqn())
                    : "controller " + cntlid + " belongs to host id " + c.hostId() + ", not " + hostId;
            refuse(cid, NvmeStatus.CONNECT_INVALID_PARAMETERS, invalidParameter(true, offset), sub.nqn(), hostnqn, q, reason);
            return null;
        }
        if (!c.ready()) {
            refuse(cid, NvmeStatus.COMMAND_SEQUENCE_ERROR, 0, sub.nqn(), hostnqn, q, "controller " + cntlid + " is not enabled (CC.EN)");
            return null;
        }
        if (q > c.grantedIoQueues() || !c.attachIoQueue(q, queue)) {
            refuse(cid, NvmeStatus.CONNECT_INVALID_PARAMETERS, invalidParameter(false, 42), sub.nqn(), hostnqn, q,
                    q > c.grantedIoQueues() ? "queue " + q + " beyond the " + c.grantedIoQueues() + " granted (Set Features Number of Queues)"
                            : "queue " + q + " is connected already");
            return null;
        }
        return c;
    }

    /** Connect response DW0 for Connect Invalid Parameters: IATTR (1 = in the data) and IPO (byte offset). */
    private static int invalidParameter(boolean inData, int offset) {
        return (inData ? 1 << 16 : 0) | offset;
    }

    /** CAP: MQES, CQR, TO = 10 (5 s), CSS bit 37 (NVM command set), MPSMIN = MPSMAX = 0 (4 KiB). */
    private long capRegister() {
        long mqes = target.options().queueEntries() - 1;
        return mqes | (1L << 16) | (10L << 24) | (1L << 37);
    }

    /** Property Get (3.4.1): CDW10 ATTRIB bits 2:0 (1 = 8 bytes), CDW11 OFST; admin queue only. */
    private void propertyGet(NvmeCommand cmd) {
        boolean eight = (cmd.cdw10() & 7) == 1;
        int ofst = cmd.cdw11();
        if (queue.qid() != 0) {
            queue.respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
            return;
        }
        Controller controller = queue.controller();
        long value;
        switch (ofst) {
            case NvmeProperty.CAP -> value = capRegister();
            case NvmeProperty.VS -> value = 0x00010300; // NVMe 1.3
            case NvmeProperty.CC -> value = controller.cc();
            case NvmeProperty.CSTS -> value = controller.csts();
            case NvmeProperty.NSSR -> value = 0;
            default -> {
                queue.respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
                return;
            }
        }
        if (!eight && ofst == NvmeProperty.CAP) {
            value &= 0xFFFFFFFFL;
        }
        queue.respond(cmd.cid(), NvmeStatus.SUCCESS, (int) value, eight ? (int) (value >>> 32) : 0);
    }

    /** Property Set (3.4.2): CDW11 OFST, CDW12 value; only CC does anything (NSSR is accepted and ignored). */
    private void propertySet(NvmeCommand cmd) {
        int ofst = cmd.cdw11();
        if (queue.qid() != 0) {
            queue.respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
            return;
        }
        if (ofst == NvmeProperty.CC) {
            queue.controller().writeCc(cmd.cdw12());
            queue.respond(cmd.cid(), NvmeStatus.SUCCESS);
        } else if (ofst == NvmeProperty.NSSR) {
            queue.respond(cmd.cid(), NvmeStatus.SUCCESS);
        } else {
            queue.respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
        }
    }
}
