package io.javastor.ioengine.nvmf.tgt;

import io.javastor.ioengine.nvmf.pdu.NvmeCommand;
import io.javastor.ioengine.nvmf.pdu.NvmeOpcode;
import io.javastor.ioengine.nvmf.pdu.NvmeStatus;
import io.netty.buffer.ByteBuf;

import java.net.InetSocketAddress;

/**
 * The admin command set on a controller's admin queue (NVMe base 2.0, 5; the subset a fabrics I/O controller and a
 * discovery controller need): Identify, Get Log Page, Set/Get Features, Keep Alive, Abort and Asynchronous Event
 * Request. Every command but these is Invalid Opcode; nothing is served before the controller is enabled (CC.EN).
 */
final class AdminCommands implements CommandSet {
    /** Set/Get Features CDW10 bit 31: SV, save the value across power cycles (we keep nothing that survives one). */
    private static final int SET_FEATURES_SAVE = 0x80000000;
    /** Get Features SEL 11b: the feature's capabilities (changeable, not saveable). */
    private static final int SEL_SUPPORTED_CAPABILITIES = 3;
    private static final int CAPABILITY_CHANGEABLE = 0x4;

    private final TransportQueue queue;
    private final Controller controller;
    private final NvmfTarget target;

    AdminCommands(TransportQueue queue, Controller controller, NvmfTarget target) {
        this.queue = queue;
        this.controller = controller;
        this.target = target;
    }

    @Override
    public void execute(NvmeCommand cmd, ByteBuf data) {
        if (data != null) {
            data.release(); // none of our admin commands takes host data
        }
        int cid = cmd.cid();
        if (!controller.ready()) {
            queue.respond(cid, NvmeStatus.COMMAND_SEQUENCE_ERROR);
            return;
        }
        switch (cmd.opcode()) {
            case NvmeOpcode.IDENTIFY -> identify(cmd);
            case NvmeOpcode.GET_LOG_PAGE -> getLogPage(cmd);
            case NvmeOpcode.SET_FEATURES -> setFeatures(cmd);
            case NvmeOpcode.GET_FEATURES -> getFeatures(cmd);
            case NvmeOpcode.KEEP_ALIVE -> queue.respond(cid, NvmeStatus.SUCCESS); // the transport noted it
            case NvmeOpcode.ABORT -> abort(cmd);
            case NvmeOpcode.ASYNC_EVENT_REQUEST -> controller.asyncEvents().request(cid);
            default -> queue.respond(cid, NvmeStatus.INVALID_OPCODE);
        }
    }

    /**
     * Abort (5.1): CDW10 SQID 15:0, CID 31:16. Only an outstanding Asynchronous Event Request, or a command of an
     * I/O queue of this controller that is still waiting for its data (it never reached the device, so stopping it is
     * safe), is aborted; anything else is answered "not aborted" (dw0 bit 0 = 1), which the spec allows for any
     * command. The I/O queue lives on its own event loop: the question hops there and the answer hops back here.
     */
    private void abort(NvmeCommand cmd) {
        int cid = cmd.cid();
        int sqid = cmd.cdw10() & 0xFFFF;
        int victim = cmd.cdw10() >>> 16;
        if (sqid == 0) {
            // An outstanding Asynchronous Event Request can be aborted (it waits for an event, never for the device);
            // any other admin command is answered before the Abort could be, so "not aborted".
            queue.respond(cid, NvmeStatus.SUCCESS, controller.asyncEvents().abort(victim) ? 0 : 1, 0);
            return;
        }
        TransportQueue q = controller.ioQueue(sqid);
        if (q == null) {
            queue.respond(cid, NvmeStatus.SUCCESS, 1, 0);
            return;
        }
        q.abortIfAwaitingData(victim, aborted -> queue.runOnLoop(() -> {
            if (!queue.isClosed() && queue.isInFlight(cid)) {
                queue.respond(cid, NvmeStatus.SUCCESS, aborted ? 0 : 1, 0);
            }
        }, null));
    }

    /** Identify (5.17): CDW10 CNS 7:0, CDW11 CSI 31:24; namespace 1 is our only namespace. */
    private void identify(NvmeCommand cmd) {
        Subsystem sub = controller.subsystem();
        int cns = cmd.cdw10() & 0xFF;
        int csi = (cmd.cdw11() >>> 24) & 0xFF;
        int nsid = cmd.nsid();
        boolean ns1 = !sub.isDiscovery() && nsid == 1;
        ByteBuf page;
        switch (cns) {
            case NvmeOpcode.CNS_NAMESPACE -> page = ns1 ? ControllerPages.identifyNamespace(sub) : null;
            case NvmeOpcode.CNS_CONTROLLER -> page = ControllerPages.identifyController(controller, target.options());
            case NvmeOpcode.CNS_ACTIVE_NAMESPACES -> page = sub.isDiscovery() ? null : ControllerPages.activeNamespaces(sub, nsid);
            case NvmeOpcode.CNS_NAMESPACE_DESCRIPTORS -> page = ns1 ? ControllerPages.namespaceDescriptors(sub) : null;
            case NvmeOpcode.CNS_NAMESPACE_IO_COMMAND_SET -> page = ns1 && csi == 0 ? ControllerPages.zeroes(ControllerPages.IDENTIFY_SIZE) : null;
            case NvmeOpcode.CNS_CONTROLLER_IO_COMMAND_SET -> page = !sub.isDiscovery() && csi == 0 ? ControllerPages.zeroes(ControllerPages.IDENTIFY_SIZE) : null;
            default -> {
                queue.respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
                return;
            }
        }
        if (page == null) {
            boolean aboutNamespace = cns == NvmeOpcode.CNS_NAMESPACE || cns == NvmeOpcode.CNS_NAMESPACE_DESCRIPTORS
                    || cns == NvmeOpcode.CNS_NAMESPACE_IO_COMMAND_SET;
            queue.respond(cmd.cid(), aboutNamespace ? NvmeStatus.INVALID_NAMESPACE : NvmeStatus.INVALID_FIELD);
            return;
        }
        queue.sendPage(cmd, page, 0, target.options().maxTransferSize());
    }

    /** Get Log Page (5.16): CDW10 LID 7:0, LSP 14:8, RAE 15, NUMDL 31:16; CDW11 NUMDU; CDW12/13 the byte offset. */
    private void getLogPage(NvmeCommand cmd) {
        Subsystem sub = controller.subsystem();
        int lid = cmd.cdw10() & 0xFF;
        int lsp = (cmd.cdw10() >>> 8) & 0x7F;
        boolean retainAsyncEvent = (cmd.cdw10() & 0x8000) != 0;
        long numd = ((Integer.toUnsignedLong(cmd.cdw11() & 0xFFFF) << 16) | (cmd.cdw10() >>> 16)) + 1;
        long offset = Integer.toUnsignedLong(cmd.cdw12()) | ((long) cmd.cdw13() << 32);
        boolean io = !sub.isDiscovery();
        ByteBuf page = switch (lid) {
            case NvmeOpcode.LOG_ERROR_INFORMATION -> ControllerPages.zeroes(64);
            case NvmeOpcode.LOG_SMART -> io ? ControllerPages.smartLog(sub) : null;
            case NvmeOpcode.LOG_FIRMWARE_SLOT -> io ? ControllerPages.firmwareLog() : null;
            case NvmeOpcode.LOG_CHANGED_NAMESPACES -> io ? ControllerPages.changedNamespaces(controller.readChangedNamespaces(retainAsyncEvent)) : null;
            case NvmeOpcode.LOG_ANA -> {
                if (!io) {
                    yield null;
                }
                controller.anaLogRead(retainAsyncEvent);
                yield ControllerPages.anaLog(sub, (lsp & 1) != 0);
            }
            case NvmeOpcode.LOG_DISCOVERY -> io ? null : discoveryLog();
            default -> null;
        };
        if (page == null) {
            queue.respond(cmd.cid(), NvmeStatus.INVALID_LOG_PAGE);
            return;
        }
        if (offset % 4 != 0 || offset > page.readableBytes() || numd * 4 > target.options().maxTransferSize()) {
            page.release();
            queue.respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
            return;
        }
        queue.sendPage(cmd, page, (int) offset, target.options().maxTransferSize());
    }

    private ByteBuf discoveryLog() {
        InetSocketAddress local = queue.localAddress();
        return ControllerPages.discoveryLog(target.generation(), target.visibleTo(controller.hostNqn()),
                target.advertisedAddress(local.getAddress()), local.getPort());
    }

    /** Set Features (5.27): CDW10 FID 7:0 and SV 31, CDW11 the value. */
    private void setFeatures(NvmeCommand cmd) {
        int fid = cmd.cdw10() & 0xFF;
        if ((cmd.cdw10() & SET_FEATURES_SAVE) != 0) {
            queue.respond(cmd.cid(), NvmeStatus.FEATURE_NOT_SAVEABLE);
            return;
        }
        int v = cmd.cdw11();
        switch (fid) {
            case NvmeOpcode.FEATURE_NUMBER_OF_QUEUES -> { // NSQR 15:0, NCQR 31:16, 0's based
                int nsqr = v & 0xFFFF;
                int ncqr = v >>> 16;
                if (nsqr == 0xFFFF || ncqr == 0xFFFF || controller.subsystem().isDiscovery()) {
                    queue.respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
                    return;
                }
                int granted = controller.requestIoQueues(Math.max(nsqr, ncqr) + 1) - 1;
                queue.respond(cmd.cid(), NvmeStatus.SUCCESS, granted | (granted << 16), 0);
            }
            case NvmeOpcode.FEATURE_KEEP_ALIVE_TIMER -> {
                controller.keepAliveTimeout(Integer.toUnsignedLong(v));
                queue.respond(cmd.cid(), NvmeStatus.SUCCESS);
            }
            case NvmeOpcode.FEATURE_ASYNC_EVENT_CONFIG -> {
                controller.asyncEventConfig(v);
                queue.respond(cmd.cid(), NvmeStatus.SUCCESS);
            }
            case NvmeOpcode.FEATURE_VOLATILE_WRITE_CACHE -> {
                controller.volatileWriteCache((v & 1) != 0);
                queue.respond(cmd.cid(), NvmeStatus.SUCCESS);
            }
            default -> queue.respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
        }
    }

    /** Reservation Persistence (feature 83h, per namespace): DW0 bit 0 PTPL, whether reservations outlive a restart. */
    private void reservationPersistence(NvmeCommand cmd) {
        Subsystem sub = controller.subsystem();
        if (sub.isDiscovery() || cmd.nsid() != 1) {
            queue.respond(cmd.cid(), NvmeStatus.INVALID_NAMESPACE);
            return;
        }
        boolean ptpl = sub.reservations().persistent() && sub.reservations().status().persistThroughPowerLoss();
        queue.respond(cmd.cid(), NvmeStatus.SUCCESS, ptpl ? 1 : 0, 0);
    }

    /** Get Features (5.15): CDW10 FID 7:0 and SEL 10:8; the current value in DW0. */
    private void getFeatures(NvmeCommand cmd) {
        int fid = cmd.cdw10() & 0xFF;
        int sel = (cmd.cdw10() >>> 8) & 7;
        if (sel == SEL_SUPPORTED_CAPABILITIES) {
            boolean ours = fid == NvmeOpcode.FEATURE_NUMBER_OF_QUEUES || fid == NvmeOpcode.FEATURE_KEEP_ALIVE_TIMER
                    || fid == NvmeOpcode.FEATURE_ASYNC_EVENT_CONFIG || fid == NvmeOpcode.FEATURE_VOLATILE_WRITE_CACHE;
            queue.respond(cmd.cid(), NvmeStatus.SUCCESS, ours ? CAPABILITY_CHANGEABLE : 0, 0);
            return;
        }
        switch (fid) {
            case NvmeOpcode.FEATURE_NUMBER_OF_QUEUES -> {
                int g = controller.grantedIoQueues() - 1;
                queue.respond(cmd.cid(), NvmeStatus.SUCCESS, g | (g << 16), 0);
            }
            case NvmeOpcode.FEATURE_KEEP_ALIVE_TIMER -> queue.respond(cmd.cid(), NvmeStatus.SUCCESS, (int) controller.keepAliveTimeoutMillis(), 0);
            case NvmeOpcode.FEATURE_ASYNC_EVENT_CONFIG -> queue.respond(cmd.cid(), NvmeStatus.SUCCESS, controller.asyncEventConfig(), 0);
            case NvmeOpcode.FEATURE_VOLATILE_WRITE_CACHE -> queue.respond(cmd.cid(), NvmeStatus.SUCCESS, controller.volatileWriteCache() ? 1 : 0, 0);
            case NvmeOpcode.FEATURE_RESERVATION_PERSISTENCE -> reservationPersistence(cmd);
            default -> queue.respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
        }
    }
}
