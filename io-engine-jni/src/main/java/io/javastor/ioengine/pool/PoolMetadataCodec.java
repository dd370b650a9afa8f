package io.javastor.ioengine.pool;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * Bytes of one metadata copy (little-endian). The header page is checksummed on its own, the payload
 * (replica table and cluster map) by a CRC32C stored in the header, so a torn or flipped copy is
 * always detected and never used.
 *
 * <pre>
 * header page (4096 bytes)
 *   0  magic "JSTRPOOL"      8  version u32        12 header size u32
 *  16  generation u64        24 pool uuid (16)      40 name length u16, 42 name (128 bytes UTF-8)
 * 176  device size u64      184 block size u32     192 cluster size u64
 * 200  cluster count u64    208 data offset u64    216 metadata copy size u64
 * 224  replica capacity u32 232 payload length u64 240 payload CRC32C u32
 * 4092 header CRC32C u32 (over bytes 0..4091)
 * replica table: capacity x 128-byte entries
 *   0 flags u32 (bit 0 in use, bit 1 thin, bit 2 snapshot, bit 3 discarded snapshot)   8 uuid (16)   24 size u64
 *  32 name length u16   34 name (64 bytes)   98 parent slot + 1 u16 (0: none)   100 snapshot txn id u32
 * 104 snapshot created (epoch ms) u64   112 snapshot source replica uuid (16)
 *   (version 1 wrote zeroes from byte 98 on, which reads as "no parent, not a snapshot": v1 pools import as they were)
 * cluster map: cluster count x u64 (0 free, else (slot + 1) << 48 | logical cluster)
 * </pre>
 */
public final class PoolMetadataCodec {
    static final byte[] MAGIC_BYTES = "JSTRPOOL".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 2;
    /** The oldest version this engine imports (v1: no snapshots). Every commit writes {@link #VERSION}. */
    static final int OLDEST_VERSION = 1;
    static final int MAX_POOL_NAME = 128;
    static final int MAX_REPLICA_NAME = 64;
    private static final int FLAG_IN_USE = 1;
    private static final int FLAG_THIN = 2;
    private static final int FLAG_SNAPSHOT = 4;
    private static final int FLAG_DISCARDED = 8;
    private static final long MAX_TXN_ID = 0xFFFF_FFFFL;

    private PoolMetadataCodec() {
    }

    /** Encodes {@code m} into {@code out} (cleared, sized to the layout's copy size). */
    public static void encode(PoolMetadata m, ByteBuffer out) {
        PoolLayout l = m.layout();
        out.clear().order(ByteOrder.LITTLE_ENDIAN);
        if (out.capacity() < l.metaCopySize()) {
            throw new IllegalArgumentException("buffer too small for a metadata copy");
        }
        out.limit((int) l.metaCopySize());
        // Payload first: its CRC goes into the header.
        int payloadStart = PoolLayout.HEADER_SIZE;
        for (int i = 0; i < l.metaCopySize() - payloadStart; i += 8) {
            out.putLong(payloadStart + i, 0);
        }
        for (int slot = 0; slot < l.replicaCapacity(); slot++) {
            ReplicaRecord r = m.slots()[slot];
            if (r == null) {
                continue;
            }
            int e = payloadStart + slot * PoolLayout.REPLICA_ENTRY_SIZE;
            ReplicaRecord.SnapshotInfo snap = r.snapshot();
            out.putInt(e, FLAG_IN_USE | (r.thin() ? FLAG_THIN : 0) | (snap != null ? FLAG_SNAPSHOT : 0)
                    | (snap != null && snap.discarded() ? FLAG_DISCARDED : 0));
            out.putLong(e + 8, r.uuid().getMostSignificantBits());
            out.putLong(e + 16, r.uuid().getLeastSignificantBits());
            out.putLong(e + 24, r.size());
            byte[] name = r.name().getBytes(StandardCharsets.UTF_8);
            out.putShort(e + 32, (short) name.length);
            out.put(e + 34, name);
            out.putShort(e + 98, (short) (r.parent() + 1));
            if (snap != null) {
                out.putInt(e + 100, (int) snap.txnId());
                out.putLong(e + 104, snap.createdMs());
                out.putLong(e + 112, snap.source().getMostSignificantBits());
                out.putLong(e + 120, snap.source().getLeastSignificantBits());
            }
        }
        int mapStart = payloadStart + l.replicaCapacity() * PoolLayout.REPLICA_ENTRY_SIZE;
        long[] map = m.clusterMap();
        for (int i = 0; i < map.length; i++) {
            if (map[i] != 0) {
                out.putLong(mapStart + i * 8, map[i]);
            }
        }
        long payloadLen = mapStart + l.clusterCount() * 8 - payloadStart;
        CRC32C crc = new CRC32C();
        crc.update(out.duplicate().position(payloadStart).limit((int) (payloadStart + payloadLen)));
        long payloadCrc = crc.getValue();

        for (int i = 0; i < PoolLayout.HEADER_SIZE; i += 8) {
            out.putLong(i, 0);
        }
        out.put(0, MAGIC_BYTES);
        out.putInt(8, VERSION);
        out.putInt(12, PoolLayout.HEADER_SIZE);
        out.putLong(16, m.generation());
        out.putLong(24, m.uuid().getMostSignificantBits());
        out.putLong(32, m.uuid().getLeastSignificantBits());
        byte[] name = m.name().getBytes(StandardCharsets.UTF_8);
        out.putShort(40, (short) name.length);
        out.put(42, name);
        out.putLong(176, m.deviceSize());
        out.putInt(184, l.blockSize());
        out.putLong(192, l.clusterSize());
        out.putLong(200, l.clusterCount());
        out.putLong(208, l.dataOffset());
        out.putLong(216, l.metaCopySize());
        out.putInt(224, l.replicaCapacity());
        out.putLong(232, payloadLen);
        out.putInt(240, (int) payloadCrc);
        crc.reset();
        crc.update(out.duplicate().position(0).limit(PoolLayout.HEADER_SIZE - 4));
        out.putInt(PoolLayout.HEADER_SIZE - 4, (int) crc.getValue());
        out.position(0);
    }

    /** True when the buffer starts with our magic: the device was (or is) a pool. */
    public static boolean hasMagic(ByteBuffer header) {
        if (header.limit() < MAGIC_BYTES.length) {
            return false;
        }
        for (int i = 0; i < MAGIC_BYTES.length; i++) {
            if (header.get(i) != MAGIC_BYTES[i]) {
                return false;
            }
        }
        return true;
    }

    /** Header fields needed to size the rest of the read; validates the header page alone. */
    public record Header(long generation, UUID uuid, String name, long deviceSize, PoolLayout layout, long payloadLength, int payloadCrc) {
    }

    public static Header decodeHeader(ByteBuffer b, long deviceSize) throws MetadataCorruptException {
        b = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (b.limit() < PoolLayout.HEADER_SIZE) {
            throw new MetadataCorruptException("header shorter than " + PoolLayout.HEADER_SIZE + " bytes");
        }
        if (!hasMagic(b)) {
            throw new MetadataCorruptException("no pool magic");
        }
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate().position(0).limit(PoolLayout.HEADER_SIZE - 4));
        int stored = b.getInt(PoolLayout.HEADER_SIZE - 4);
        if ((int) crc.getValue() != stored) {
            throw new MetadataCorruptException(String.format("header checksum mismatch (stored %08x, computed %08x)", stored, (int) crc.getValue()));
        }
        int version = b.getInt(8);
        if (version < OLDEST_VERSION || version > VERSION) {
            throw new MetadataCorruptException("unsupported metadata version " + version + " (this engine reads "
                    + OLDEST_VERSION + " to " + VERSION + ")");
        }
        long gen = b.getLong(16);
        UUID uuid = new UUID(b.getLong(24), b.getLong(32));
        int nameLen = Short.toUnsignedInt(b.getShort(40));
        if (nameLen == 0 || nameLen > MAX_POOL_NAME) {
            throw new MetadataCorruptException("pool name length " + nameLen + " out of range");
        }
        byte[] name = new byte[nameLen];
        b.get(42, name);
        long devSize = b.getLong(176);
        int blockSize = b.getInt(184);
        long clusterSize = b.getLong(192);
        long clusters = b.getLong(200);
        long dataOffset = b.getLong(208);
        long copySize = b.getLong(216);
        int capacity = b.getInt(224);
        long payloadLen = b.getLong(232);
        int payloadCrc = b.getInt(240);
        PoolLayout l = new PoolLayout(blockSize, clusterSize, clusters, capacity, copySize, dataOffset);
        if (blockSize != 512 && blockSize != 4096) {
            throw new MetadataCorruptException("block size " + blockSize + " invalid");
        }
        if (Long.bitCount(clusterSize) != 1 || clusterSize < PoolLayout.MIN_CLUSTER_SIZE || clusterSize > PoolLayout.MAX_CLUSTER_SIZE) {
            throw new MetadataCorruptException("cluster size " + clusterSize + " invalid");
        }
        if (capacity <= 0 || capacity > 65_000 || clusters <= 0 || clusters > (1L << 40)
                || copySize < PoolLayout.metaCopySize(clusters, capacity) || copySize % 4096 != 0 || copySize > (1L << 31)
                || dataOffset < 2 * copySize || dataOffset % clusterSize != 0
                || payloadLen != (long) capacity * PoolLayout.REPLICA_ENTRY_SIZE + clusters * 8) {
            throw new MetadataCorruptException("inconsistent geometry: " + l + ", payload " + payloadLen);
        }
        if (dataOffset + clusters * clusterSize > deviceSize) {
            throw new MetadataCorruptException("pool needs " + (dataOffset + clusters * clusterSize)
                    + " bytes but the device has " + deviceSize + " (device shrunk?)");
        }
        return new Header(gen, uuid, new String(name, StandardCharsets.UTF_8), devSize, l, payloadLen, payloadCrc);
    }

    /** Decodes and validates a whole copy (header page plus payload). */
    public static PoolMetadata decode(ByteBuffer b, long deviceSize) throws MetadataCorruptException {
        Header h = decodeHeader(b, deviceSize);
        PoolLayout l = h.layout();
        b = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int payloadStart = PoolLayout.HEADER_SIZE;
        if (b.limit() < payloadStart + h.payloadLength()) {
            throw new MetadataCorruptException("copy truncated");
        }
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate().position(payloadStart).limit((int) (payloadStart + h.payloadLength())));
        if ((int) crc.getValue() != h.payloadCrc()) {
            throw new MetadataCorruptException(String.format("payload checksum mismatch (stored %08x, computed %08x)", h.payloadCrc(), (int) crc.getValue()));
        }
        ReplicaRecord[] slots = new ReplicaRecord[l.replicaCapacity()];
        Set<UUID> seen = new HashSet<>();
        for (int slot = 0; slot < slots.length; slot++) {
            int e = payloadStart + slot * PoolLayout.REPLICA_ENTRY_SIZE;
            int flags = b.getInt(e);
            if ((flags & FLAG_IN_USE) == 0) {
                continue;
            }
            UUID uuid = new UUID(b.getLong(e + 8), b.getLong(e + 16));
            long size = b.getLong(e + 24);
            int nameLen = Short.toUnsignedInt(b.getShort(e + 32));
            if (nameLen == 0 || nameLen > MAX_REPLICA_NAME || size <= 0 || size % l.blockSize() != 0
                    || l.clustersFor(size) > PoolMetadata.LOGICAL_MASK || !seen.add(uuid)) {
                throw new MetadataCorruptException("replica table entry " + slot + " is invalid");
            }
            byte[] name = new byte[nameLen];
            b.get(e + 34, name);
            int parent = Short.toUnsignedInt(b.getShort(e + 98)) - 1;
            boolean thin = (flags & FLAG_THIN) != 0;
            ReplicaRecord.SnapshotInfo snap = null;
            if ((flags & FLAG_SNAPSHOT) != 0) {
                snap = new ReplicaRecord.SnapshotInfo(new UUID(b.getLong(e + 112), b.getLong(e + 120)),
                        Integer.toUnsignedLong(b.getInt(e + 100)), b.getLong(e + 104), (flags & FLAG_DISCARDED) != 0);
            } else if ((flags & FLAG_DISCARDED) != 0 || (parent >= 0 && !thin)) {
                throw new MetadataCorruptException("replica table entry " + slot + " has snapshot-only flags");
            }
            if (parent >= slots.length) {
                throw new MetadataCorruptException("replica table entry " + slot + " names parent slot " + parent + " beyond the table");
            }
            slots[slot] = new ReplicaRecord(uuid, new String(name, StandardCharsets.UTF_8), size, thin, parent, snap);
        }
        checkParents(slots);
        int mapStart = payloadStart + l.replicaCapacity() * PoolLayout.REPLICA_ENTRY_SIZE;
        long[] map = new long[(int) l.clusterCount()];
        Set<Long> owners = new HashSet<>();
        long[] allocated = new long[slots.length];
        for (int i = 0; i < map.length; i++) {
            long entry = b.getLong(mapStart + i * 8);
            if (entry == 0) {
                continue;
            }
            int slot = PoolMetadata.slotOf(entry);
            long logical = PoolMetadata.logicalOf(entry);
            if (slot < 0 || slot >= slots.length || slots[slot] == null
                    || logical >= l.clustersFor(slots[slot].size()) || !owners.add(entry)) {
                throw new MetadataCorruptException("cluster map entry " + i + " points at no valid replica cluster");
            }
            allocated[slot]++;
            map[i] = entry;
        }
        for (int slot = 0; slot < slots.length; slot++) {
            ReplicaRecord r = slots[slot];
            if (r != null && !r.thin() && !r.isSnapshot() && allocated[slot] != l.clustersFor(r.size())) {
                throw new MetadataCorruptException("thick replica " + r.uuid() + " has " + allocated[slot] + " of "
                        + l.clustersFor(r.size()) + " clusters");
            }
        }
        return new PoolMetadata(h.name(), h.uuid(), h.deviceSize(), l, h.generation(), slots, map);
    }

    /** Every parent is a snapshot in use, and following parents always ends (no cycle): a chain a read can walk. */
    private static void checkParents(ReplicaRecord[] slots) throws MetadataCorruptException {
        for (int slot = 0; slot < slots.length; slot++) {
            int hops = 0;
            for (int s = slot; slots[s] != null && slots[s].parent() >= 0; s = slots[s].parent()) {
                ReplicaRecord p = slots[slots[s].parent()];
                if (p == null || !p.isSnapshot()) {
                    throw new MetadataCorruptException("replica table entry " + s + " names parent slot " + slots[s].parent()
                            + ", which is not a snapshot");
                }
                if (++hops > slots.length) {
                    throw new MetadataCorruptException("replica table entry " + slot + " is in a cycle of parents");
                }
            }
        }
    }

    static long checkTxnId(long txnId) {
        if (txnId < 0 || txnId > MAX_TXN_ID) {
            throw io.javastor.ioengine.EngineException.invalid("txn_id", "must be between 0 and " + MAX_TXN_ID + ", got " + txnId);
        }
        return txnId;
    }
}
