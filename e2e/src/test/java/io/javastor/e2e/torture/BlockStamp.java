package io.javastor.e2e.torture;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * What the torture writes into a 4 KiB block, and what a block read back says. Every 512-byte sector of a block
 * starts with (magic, block offset, sequence number) and is filled with bytes derived from them; the block's last 8
 * bytes are a CRC32C over the rest. So a block read back is either all zeroes (never written), or exactly one
 * version of exactly one block (offset and sequence), or corrupt: a bad checksum, sectors of different versions (a
 * torn write), or a stamp that names another offset (misplaced data).
 */
final class BlockStamp {
    static final int BLOCK = 4096;
    private static final int SECTOR = 512;
    private static final long MAGIC = 0x4a53544f52545552L; // "JSTORTUR"

    /** What a block read back holds. */
    record Seen(Kind kind, long offset, long seq, String detail) {
        enum Kind { ZERO, VERSION, CORRUPT }

        static Seen zero() {
            return new Seen(Kind.ZERO, -1, -1, "");
        }

        @Override
        public String toString() {
            return switch (kind) {
                case ZERO -> "zeroes";
                case VERSION -> "version seq=" + seq + " of offset " + offset;
                case CORRUPT -> "corrupt (" + detail + ")";
            };
        }
    }

    private BlockStamp() {
    }

    /** Writes the stamp of (offset, seq) into {@code dst} at its position (absolute puts; the position does not move). */
    static void fill(ByteBuffer dst, int at, long offset, long seq) {
        ByteBuffer b = dst.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        for (int s = 0; s < BLOCK / SECTOR; s++) {
            int base = at + s * SECTOR;
            b.putLong(base, MAGIC);
            b.putLong(base + 8, offset);
            b.putLong(base + 16, seq);
            long x = mix(offset * 31 + seq * 1_000_003L + s);
            for (int i = 24; i < SECTOR; i += 8) {
                if (s == BLOCK / SECTOR - 1 && i == SECTOR - 8) {
                    break; // the checksum's place
                }
                x = mix(x);
                b.putLong(base + i, x);
            }
        }
        b.putLong(at + BLOCK - 8, crc(b, at));
    }

    /** Reads the block at {@code at} of {@code src} (expected at volume offset {@code offset}). */
    static Seen read(ByteBuffer src, int at, long offset) {
        ByteBuffer b = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        boolean zero = true;
        for (int i = 0; i < BLOCK && zero; i += 8) {
            zero = b.getLong(at + i) == 0;
        }
        if (zero) {
            return Seen.zero();
        }
        long sum = b.getLong(at + BLOCK - 8);
        long off0 = b.getLong(at + 8);
        long seq0 = b.getLong(at + 16);
        for (int s = 0; s < BLOCK / SECTOR; s++) {
            int base = at + s * SECTOR;
            if (b.getLong(base) != MAGIC) {
                return new Seen(Seen.Kind.CORRUPT, off0, seq0, "sector " + s + " has no stamp");
            }
            if (b.getLong(base + 8) != off0 || b.getLong(base + 16) != seq0) {
                return new Seen(Seen.Kind.CORRUPT, off0, seq0, "torn: sector 0 is offset " + off0 + " seq " + seq0 + ", sector " + s
                        + " is offset " + b.getLong(base + 8) + " seq " + b.getLong(base + 16));
            }
        }
        if (crc(b, at) != sum) {
            return new Seen(Seen.Kind.CORRUPT, off0, seq0, "checksum mismatch (stamp offset " + off0 + " seq " + seq0 + ")");
        }
        if (off0 != offset) {
            return new Seen(Seen.Kind.CORRUPT, off0, seq0, "another block's data: stamped for offset " + off0 + " seq " + seq0);
        }
        return new Seen(Seen.Kind.VERSION, off0, seq0, "");
    }

    private static long crc(ByteBuffer b, int at) {
        CRC32C c = new CRC32C();
        c.update(b.duplicate().position(at).limit(at + BLOCK - 8));
        return c.getValue();
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
