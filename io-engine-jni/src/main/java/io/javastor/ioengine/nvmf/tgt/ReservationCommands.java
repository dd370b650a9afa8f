package io.javastor.ioengine.nvmf.tgt;

import io.javastor.ioengine.nvmf.pdu.NvmeCommand;
import io.javastor.ioengine.nvmf.pdu.NvmeOpcode;
import io.javastor.ioengine.nvmf.pdu.NvmeStatus;
import io.javastor.ioengine.reservation.NamespaceReservations;
import io.javastor.ioengine.reservation.NamespaceReservations.Outcome;
import io.javastor.ioengine.reservation.ReservationStatus;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.UUID;

/**
 * The reservation commands of the NVM command set (NVM Command Set 1.0, 3.2.3-3.2.6; base 2.0, 8.19): Register,
 * Acquire, Release and Report on namespace 1, acting on the subsystem's {@link NamespaceReservations} as the
 * controller's host (its Host Identifier from Connect). Their data (keys) is little-endian, 8 bytes per key.
 */
final class ReservationCommands {
    /** CDW10 bit 3: IEKEY, ignore the existing key (Register's unregister and replace only). */
    private static final int IEKEY = 1 << 3;
    /** Report CDW11 bit 0: EDS, the extended data structure (128-bit host identifiers, which ours are). */
    private static final int EDS = 1;
    /** Extended Reservation Status (base 2.0, figure 405/406): a 64-byte header, then 64 bytes per registrant. */
    private static final int EXTENDED_HEADER = 64;
    private static final int EXTENDED_REGISTRANT = 64;
    /** Registrant CNTLID when the registration is a host's, not one controller's (dynamic controllers). */
    private static final int CNTLID_DYNAMIC = 0xFFFF;

    private final TransportQueue queue;
    private final Controller controller;
    private final NvmfTargetOptions options;

    ReservationCommands(TransportQueue queue, Controller controller, NvmfTargetOptions options) {
        this.queue = queue;
        this.controller = controller;
        this.options = options;
    }

    void execute(NvmeCommand cmd, ByteBuf data) {
        try {
            switch (cmd.opcode()) {
                case NvmeOpcode.RESERVATION_REGISTER -> register(cmd, data);
                case NvmeOpcode.RESERVATION_ACQUIRE -> acquire(cmd, data);
                case NvmeOpcode.RESERVATION_RELEASE -> release(cmd, data);
                default -> report(cmd);
            }
        } finally {
            if (data != null) {
                data.release();
            }
        }
    }

    private NamespaceReservations reservations() {
        return controller.subsystem().reservations();
    }

    private UUID host() {
        return controller.hostId();
    }

    /** Register (3.2.5): CDW10 RREGA 2:0, IEKEY 3, CPTPL 31:30; data CRKEY 7:0, NRKEY 15:8. */
    private void register(NvmeCommand cmd, ByteBuf data) {
        if (!hasKeys(cmd, data, 16)) {
            return;
        }
        int cdw10 = cmd.cdw10();
        Outcome o = reservations().register(host(), cdw10 & 7, (cdw10 & IEKEY) != 0, key(data, 0), key(data, 8), cdw10 >>> 30);
        answer(cmd.cid(), o);
    }

    /**
     * Acquire (3.2.3): CDW10 RACQA 2:0, IEKEY 3 (not allowed here), RTYPE 15:8; data CRKEY 7:0, PRKEY 15:8. A preempt
     * completes only once the preempted hosts' writes are done (see HostAccess): a preempt-and-abort needs no more.
     */
    private void acquire(NvmeCommand cmd, ByteBuf data) {
        if (!hasKeys(cmd, data, 16)) {
            return;
        }
        int cdw10 = cmd.cdw10();
        if ((cdw10 & IEKEY) != 0) {
            queue.respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
            return;
        }
        int cid = cmd.cid();
        reservations().acquire(host(), cdw10 & 7, (cdw10 >>> 8) & 0xFF, key(data, 0), key(data, 8))
                .whenComplete((o, t) -> queue.runOnLoop(() -> {
                    if (!queue.isClosed()) {
                        if (t != null) {
                            queue.respond(cid, NvmeStatus.INTERNAL_ERROR);
                        } else {
                            answer(cid, o);
                        }
                    }
                }, null));
    }

    /** Release (3.2.6): CDW10 RRELA 2:0, IEKEY 3 (not allowed here), RTYPE 15:8; data CRKEY 7:0. */
    private void release(NvmeCommand cmd, ByteBuf data) {
        if (!hasKeys(cmd, data, 8)) {
            return;
        }
        int cdw10 = cmd.cdw10();
        if ((cdw10 & IEKEY) != 0) {
            queue.respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
            return;
        }
        answer(cmd.cid(), reservations().release(host(), cdw10 & 7, (cdw10 >>> 8) & 0xFF, key(data, 0)));
    }

    /**
     * Report (3.2.4): CDW10 NUMD (0's based dwords), CDW11 EDS. Only the extended structure can carry our 128-bit
     * host identifiers; without EDS the answer is Host Identifier Inconsistent Format, as the spec asks.
     */
    private void report(NvmeCommand cmd) {
        if ((cmd.cdw11() & EDS) == 0) {
            queue.respond(cmd.cid(), NvmeStatus.HOST_ID_INCONSISTENT_FORMAT);
            return;
        }
        long numBytes = (Integer.toUnsignedLong(cmd.cdw10()) + 1) * 4;
        if (numBytes < EXTENDED_HEADER || numBytes > options.maxTransferSize()) {
            queue.respond(cmd.cid(), NvmeStatus.INVALID_FIELD);
            return;
        }
        ReservationStatus s = reservations().status();
        ByteBuf page = Unpooled.buffer(EXTENDED_HEADER + s.registrants().size() * EXTENDED_REGISTRANT);
        page.writeZero(page.capacity());
        page.setIntLE(0, (int) s.generation());                       // GEN
        page.setByte(4, s.type() == null ? 0 : s.type().rtype());      // RTYPE
        page.setShortLE(5, s.registrants().size());                    // REGCTL
        page.setByte(9, s.persistThroughPowerLoss() && reservations().persistent() ? 1 : 0); // PTPLS
        int at = EXTENDED_HEADER;
        for (ReservationStatus.Registrant r : s.registrants()) {
            page.setShortLE(at, CNTLID_DYNAMIC);                       // CNTLID
            page.setByte(at + 2, s.holds(r.hostId()) ? 1 : 0);         // RCSTS: holds the reservation
            page.setLongLE(at + 8, r.key());                           // RKEY
            page.setLong(at + 16, r.hostId().getMostSignificantBits()); // HOSTID: the 16 bytes Connect carried, in order
            page.setLong(at + 24, r.hostId().getLeastSignificantBits());
            at += EXTENDED_REGISTRANT;
        }
        queue.sendPage(cmd, page, 0, options.maxTransferSize());
    }

    private boolean hasKeys(NvmeCommand cmd, ByteBuf data, int length) {
        if (data == null || data.readableBytes() < length) {
            queue.respond(cmd.cid(), NvmeStatus.DATA_SGL_LENGTH_INVALID);
            return false;
        }
        return true;
    }

    private static long key(ByteBuf data, int at) {
        return data.getLongLE(data.readerIndex() + at);
    }

    private void answer(int cid, Outcome o) {
        queue.respond(cid, switch (o) {
            case DONE -> NvmeStatus.SUCCESS;
            case CONFLICT -> NvmeStatus.RESERVATION_CONFLICT;
            case INVALID_FIELD -> NvmeStatus.INVALID_FIELD;
        });
    }
}
