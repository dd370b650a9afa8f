package io.javastor.ioengine.nvmf.host;

import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.nvmf.pdu.NvmeCommand;
import io.javastor.ioengine.nvmf.pdu.NvmeCompletion;
import io.javastor.ioengine.nvmf.pdu.NvmeOpcode;
import io.javastor.ioengine.nvmf.pdu.NvmeStatus;
import io.javastor.ioengine.reservation.HostReservations;
import io.javastor.ioengine.reservation.NamespaceReservations.Outcome;
import io.javastor.ioengine.reservation.ReservationStatus;
import io.javastor.ioengine.reservation.ReservationType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Our host's reservation commands on a remote namespace (NVM command set 3.2.3-3.2.6): the keys go as in-command
 * data (little-endian), the report comes back in the extended data structure (figures 405-406), which carries the
 * 128-bit host identifiers our target and Linux use.
 */
final class RemoteReservations implements HostReservations {
    private static final int IEKEY = 1 << 3;
    /** Room for 63 registrants in the extended report: far more hosts than ever reach one replica. */
    private static final int REPORT_BYTES = 4096;

    private final NvmfBlockDevice device;

    RemoteReservations(NvmfBlockDevice device) {
        this.device = device;
    }

    @Override
    public CompletableFuture<Outcome> register(int action, boolean ignoreExistingKey, long currentKey, long newKey) {
        return send(NvmeOpcode.RESERVATION_REGISTER, action | (ignoreExistingKey ? IEKEY : 0), keys(currentKey, newKey), "register");
    }

    @Override
    public CompletableFuture<Outcome> acquire(int action, ReservationType type, long currentKey, long preemptKey) {
        return send(NvmeOpcode.RESERVATION_ACQUIRE, action | (type.rtype() << 8), keys(currentKey, preemptKey), "acquire");
    }

    @Override
    public CompletableFuture<Outcome> release(int action, ReservationType type, long currentKey) {
        ByteBuffer key = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, currentKey);
        return send(NvmeOpcode.RESERVATION_RELEASE, action | (type.rtype() << 8), key, "release");
    }

    @Override
    public CompletableFuture<ReservationStatus> report() {
        ByteBuffer page = ByteBuffer.allocate(REPORT_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        NvmeCommand cmd = NvmeCommand.of(NvmeOpcode.RESERVATION_REPORT, 1, REPORT_BYTES / 4 - 1, 1 /* EDS */, 0, 0, 0, 0);
        return device.command(cmd, page, false).thenApply(c -> {
            if (!c.isSuccess()) {
                throw failed("report", c);
            }
            return parse(page);
        });
    }

    /** The extended Reservation Status data structure: a 64-byte header, then 64 bytes a registrant. */
    static ReservationStatus parse(ByteBuffer b) {
        int count = Short.toUnsignedInt(b.getShort(5));
        int rtype = Byte.toUnsignedInt(b.get(4));
        List<ReservationStatus.Registrant> registrants = new ArrayList<>();
        UUID holder = null;
        for (int i = 0; i < count && 64 + (i + 1) * 64 <= b.capacity(); i++) {
            int at = 64 + i * 64;
            UUID host = new UUID(b.order(ByteOrder.BIG_ENDIAN).getLong(at + 16), b.getLong(at + 24));
            b.order(ByteOrder.LITTLE_ENDIAN);
            registrants.add(new ReservationStatus.Registrant(host, b.getLong(at + 8)));
            if ((b.get(at + 2) & 1) != 0 && holder == null) {
                holder = host;
            }
        }
        ReservationType type = ReservationType.of(rtype);
        return new ReservationStatus(Integer.toUnsignedLong(b.getInt(0)), registrants, type == null ? null : holder, holder == null ? null : type,
                b.get(9) != 0);
    }

    private CompletableFuture<Outcome> send(int opcode, int cdw10, ByteBuffer data, String what) {
        NvmeCommand cmd = NvmeCommand.of(opcode, 1, cdw10, 0, 0, 0, 0, 0);
        return device.command(cmd, data, true).thenApply(c -> {
            if (c.isSuccess()) {
                return Outcome.DONE;
            }
            if (NvmeStatus.is(c.status(), NvmeStatus.RESERVATION_CONFLICT)) {
                return Outcome.CONFLICT;
            }
            if (NvmeStatus.is(c.status(), NvmeStatus.INVALID_FIELD)) {
                return Outcome.INVALID_FIELD;
            }
            throw failed(what, c);
        });
    }

    private BlockIoException failed(String what, NvmeCompletion c) {
        return new BlockIoException(BlockIoException.EIO, "reservation " + what, device.uri(), 0, 0, NvmeStatus.describe(c.status()));
    }

    private static ByteBuffer keys(long first, long second) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, first).putLong(8, second);
    }
}
