package io.javastor.ioengine.reservation;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * Reservations in a file of their own, replaced atomically: written to a temporary file, synced, renamed over the old
 * one, and the directory synced, so a crash leaves the old or the new reservations, never a mix. A file whose checksum
 * fails is an error, not an empty set: losing a fence silently would let a stale writer in.
 *
 * <pre>
 *  0 magic "JSTRRSV1"   8 generation u64   16 PTPL u8   17 RTYPE u8 (0 none)   18 holder uuid (16)
 * 34 registrant count u16   36 registrants: host uuid (16) key u64, each 24 bytes   then CRC32C u32 of all before
 * </pre>
 */
public final class ReservationFile implements ReservationStore {
    private static final byte[] MAGIC = "JSTRRSV1".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER = 36;
    private static final int REGISTRANT = 24;

    private final Path path;

    public ReservationFile(Path path) {
        this.path = path;
    }

    public Path path() {
        return path;
    }

    @Override
    public ReservationStatus load() throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            return ReservationStatus.EMPTY;
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < HEADER + 4 || !Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
            throw new IOException(path + " is not a reservation file");
        }
        int count = Short.toUnsignedInt(b.getShort(34));
        int end = HEADER + count * REGISTRANT;
        if (bytes.length != end + 4) {
            throw new IOException(path + " has " + bytes.length + " bytes, its header says " + (end + 4));
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, end);
        if ((int) crc.getValue() != b.getInt(end)) {
            throw new IOException(path + " fails its checksum");
        }
        int rtype = Byte.toUnsignedInt(b.get(17));
        ReservationType type = rtype == 0 ? null : ReservationType.of(rtype);
        if (rtype != 0 && type == null) {
            throw new IOException(path + " names reservation type " + rtype);
        }
        List<ReservationStatus.Registrant> registrants = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int at = HEADER + i * REGISTRANT;
            registrants.add(new ReservationStatus.Registrant(new UUID(b.getLong(at), b.getLong(at + 8)), b.getLong(at + 16)));
        }
        UUID holder = type == null ? null : new UUID(b.getLong(18), b.getLong(26));
        return new ReservationStatus(b.getLong(8), registrants, holder, type, b.get(16) != 0);
    }

    @Override
    public void save(ReservationStatus s) throws IOException {
        int end = HEADER + s.registrants().size() * REGISTRANT;
        ByteBuffer b = ByteBuffer.allocate(end + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC);
        b.putLong(8, s.generation());
        b.put(16, (byte) (s.persistThroughPowerLoss() ? 1 : 0));
        b.put(17, (byte) (s.type() == null ? 0 : s.type().rtype()));
        if (s.holder() != null) {
            b.putLong(18, s.holder().getMostSignificantBits()).putLong(26, s.holder().getLeastSignificantBits());
        }
        b.putShort(34, (short) s.registrants().size());
        for (int i = 0; i < s.registrants().size(); i++) {
            ReservationStatus.Registrant r = s.registrants().get(i);
            int at = HEADER + i * REGISTRANT;
            b.putLong(at, r.hostId().getMostSignificantBits()).putLong(at + 8, r.hostId().getLeastSignificantBits()).putLong(at + 16, r.key());
        }
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, end);
        b.putInt(end, (int) crc.getValue());
        Files.createDirectories(path.getParent());
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            b.clear();
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncDirectory();
    }

    @Override
    public void delete() throws IOException {
        if (Files.deleteIfExists(path)) {
            syncDirectory();
        }
    }

    @Override
    public boolean persistent() {
        return true;
    }

    /** The rename is durable only once the directory entry is (fsync of the directory). */
    private void syncDirectory() throws IOException {
        try (FileChannel dir = FileChannel.open(path.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        }
    }
}
