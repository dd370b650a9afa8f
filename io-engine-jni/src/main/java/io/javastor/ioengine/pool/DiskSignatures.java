package io.javastor.ioengine.pool;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.DmaBuffers;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * What a disk already holds, from the signatures blkid looks for at the start of a device: a partition table, a
 * filesystem, LVM or MD RAID metadata, swap. Pools go only on unused disks (Mayastor's rule): a disk with any of these
 * is refused unless the create request says to erase it.
 */
public final class DiskSignatures {
    /** Enough to see btrfs's superblock at 64 KiB. */
    private static final int PROBE_BYTES = 128 * 1024;

    private DiskSignatures() {
    }

    /** The first signature found, named for people ("an ext2/3/4 filesystem"), or empty. */
    public static Optional<String> find(BlockDevice device) {
        int n = (int) Math.min(PROBE_BYTES, device.size() - device.size() % device.blockSize());
        if (n <= 0) {
            return Optional.empty();
        }
        ByteBuffer b = DmaBuffers.allocate(n);
        device.read(0, b).join();
        return find(b);
    }

    /** As above, from the device's first bytes (up to 128 KiB) already read; positions are absolute. */
    public static Optional<String> find(ByteBuffer head) {
        ByteBuffer b = head.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (ascii(b, 512, "EFI PART") || ascii(b, 4096, "EFI PART")) {
            return Optional.of("a GPT partition table");
        }
        if (ascii(b, 512, "LABELONE") || ascii(b, 0, "LABELONE")) {
            return Optional.of("an LVM physical volume");
        }
        if (u32(b, 0) == 0xa92b4efcL || u32(b, 4096) == 0xa92b4efcL) {
            return Optional.of("MD RAID metadata");
        }
        if (u16(b, 1080) == 0xEF53) { // superblock at 1024, s_magic at +56
            return Optional.of("an ext2/3/4 filesystem");
        }
        if (ascii(b, 0, "XFSB")) {
            return Optional.of("an XFS filesystem");
        }
        if (ascii(b, 65536 + 64, "_BHRfS_M")) {
            return Optional.of("a btrfs filesystem");
        }
        if (ascii(b, 4096 - 10, "SWAPSPACE2") || ascii(b, 4096 - 10, "SWAP-SPACE")) {
            return Optional.of("a swap area");
        }
        if (u16(b, 510) == 0xAA55) { // MBR boot signature (also FAT boot sectors)
            return Optional.of("an MBR partition table or boot sector");
        }
        return Optional.empty();
    }

    private static boolean ascii(ByteBuffer b, int at, String magic) {
        byte[] m = magic.getBytes(StandardCharsets.US_ASCII);
        if (at + m.length > b.limit()) {
            return false;
        }
        for (int i = 0; i < m.length; i++) {
            if (b.get(at + i) != m[i]) {
                return false;
            }
        }
        return true;
    }

    private static int u16(ByteBuffer b, int at) {
        return at + 2 > b.limit() ? -1 : Short.toUnsignedInt(b.getShort(at));
    }

    private static long u32(ByteBuffer b, int at) {
        return at + 4 > b.limit() ? -1 : Integer.toUnsignedLong(b.getInt(at));
    }
}
