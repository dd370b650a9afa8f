package io.javastor.ioengine.nvmf.tgt;

import io.javastor.ioengine.device.BlockDevice;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.net.InetAddress;
import java.net.Inet6Address;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

/** The data structures admin commands return: Identify data (base 2.0, 5.17.2) and log pages (5.16.1). */
final class ControllerPages {
    static final int IDENTIFY_SIZE = 4096;
    static final int ANA_GROUP = 1;

    private ControllerPages() {
    }

    private static ByteBuf page(int size) {
        return Unpooled.wrappedBuffer(new byte[size]).writerIndex(size);
    }

    /** ASCII, space padded (SN, MN, FR, TRSVCID, TRADDR). */
    private static void ascii(ByteBuf b, int at, int len, String s) {
        byte[] v = s.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < len; i++) {
            b.setByte(at + i, i < v.length ? v[i] : ' ');
        }
    }

    /** NUL-terminated UTF-8 (NQNs). */
    private static void nqn(ByteBuf b, int at, String s) {
        byte[] v = s.getBytes(StandardCharsets.UTF_8);
        b.setBytes(at, v, 0, Math.min(v.length, 255));
    }

    /** Identify Controller data structure (CNS 01h, figure 275; fabrics fields from NVMe-oF 1.1, 4.2). */
    static ByteBuf identifyController(Controller c, NvmfTargetOptions o) {
        Subsystem s = c.subsystem();
        boolean io = !s.isDiscovery();
        ByteBuf b = page(IDENTIFY_SIZE);
        ascii(b, 4, 20, io ? s.serial() : "javastor-discovery");   // SN
        ascii(b, 24, 40, io ? s.model() : "Javastor discovery");   // MN
        ascii(b, 64, 8, "1.0");                                    // FR
        b.setByte(72, 6);                                          // RAB
        b.setByte(76, io ? 0x0A : 0);                              // CMIC: multi-controller, ANA reporting
        b.setByte(77, Integer.numberOfTrailingZeros(o.maxTransferSize() / 4096)); // MDTS in units of CAP.MPSMIN
        b.setShortLE(78, c.cntlid());                              // CNTLID
        b.setIntLE(80, 0x00010300);                                // VER 1.3
        b.setIntLE(92, io ? (1 << 8) | (1 << 11) : 0);             // OAES: namespace attribute, ANA change notices
        b.setByte(111, io ? 1 : 2);                                // CNTRLTYPE: I/O or discovery controller
        b.setByte(258, 3);                                         // ACL
        b.setByte(259, AsyncEventRequests.LIMIT - 1);              // AERL (0's based)
        b.setByte(260, 0x03);                                      // FRMW: one read-only slot
        b.setByte(261, 0x04);                                      // LPA: extended data for Get Log Page
        b.setShortLE(320, 10);                                     // KAS: 100 ms units
        if (io) {
            b.setByte(342, 10);                                    // ANATT seconds
            b.setByte(343, 0x47);                                  // ANACAP: optimized/non-optimized/inaccessible, static group id
            b.setIntLE(344, ANA_GROUP);                            // ANAGRPMAX
            b.setIntLE(348, ANA_GROUP);                            // NANAGRPID
        }
        b.setByte(512, 0x66);                                      // SQES
        b.setByte(513, 0x44);                                      // CQES
        b.setShortLE(514, o.queueEntries());                       // MAXCMD
        b.setIntLE(516, io ? 1 : 0);                               // NN
        b.setShortLE(520, io ? 0x2C : 0);                          // ONCS: DSM, Write Zeroes, Reservations
        b.setByte(525, io ? 1 : 0);                                // VWC present
        b.setIntLE(536, 1 | (1 << 20));                            // SGLS: SGLs supported, offsets in data blocks
        b.setIntLE(540, io ? 1 : 0);                               // MNAN
        nqn(b, 768, s.nqn());                                      // SUBNQN
        b.setIntLE(1792, (64 + o.inCapsuleDataSize()) / 16);       // IOCCSZ
        b.setIntLE(1796, 1);                                       // IORCSZ
        b.setShortLE(1800, 0);                                     // ICDOFF
        b.setByte(1802, 0);                                        // FCATT: dynamic controller model
        b.setByte(1803, 1);                                        // MSDBD
        return b;
    }

    /** Identify Namespace (CNS 00h, NVM command set, figure 114 of the NVM command set spec). */
    static ByteBuf identifyNamespace(Subsystem s) {
        BlockDevice d = s.device();
        long blocks = d.size() / d.blockSize();
        ByteBuf b = page(IDENTIFY_SIZE);
        b.setLongLE(0, blocks);                                    // NSZE
        b.setLongLE(8, blocks);                                    // NCAP
        b.setLongLE(16, blocks);                                   // NUSE
        b.setByte(25, 0);                                          // NLBAF (0's based): one format
        b.setByte(26, 0);                                          // FLBAS: format 0
        b.setByte(30, 1);                                          // NMIC: may be shared by controllers
        // RESCAP: every type (bits 6:1), IEKEY as of NVMe 1.3 (bit 7), Persist Through Power Loss when kept (bit 0)
        b.setByte(31, 0xFE | (s.reservations().persistent() ? 1 : 0));
        b.setIntLE(92, ANA_GROUP);                                 // ANAGRPID
        writeUuid(b, 104, s.namespaceUuid());                      // NGUID
        b.setByte(128 + 2, Integer.numberOfTrailingZeros(d.blockSize())); // LBAF0.LBADS
        writeInstance(b, d.instanceId());
        return b;
    }

    /** Vendor Specific (bytes 3072-4095 of Identify Namespace): where our host finds the namespace's instance. */
    static final int VS_INSTANCE = 3072;
    static final byte[] VS_INSTANCE_MAGIC = "JVSTINST".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** Magic, a 2-byte length, the ASCII instance id (see BlockDevice#instanceId); nothing when unknown. */
    private static void writeInstance(ByteBuf b, String instance) {
        if (instance == null) {
            return;
        }
        byte[] id = instance.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int len = Math.min(id.length, IDENTIFY_SIZE - VS_INSTANCE - VS_INSTANCE_MAGIC.length - 2);
        b.setBytes(VS_INSTANCE, VS_INSTANCE_MAGIC);
        b.setShortLE(VS_INSTANCE + VS_INSTANCE_MAGIC.length, len);
        b.setBytes(VS_INSTANCE + VS_INSTANCE_MAGIC.length + 2, id, 0, len);
    }

    /** Namespace Identification Descriptor list (CNS 03h, figure 276): NGUID (type 2) and UUID (type 3). */
    static ByteBuf namespaceDescriptors(Subsystem s) {
        ByteBuf b = page(IDENTIFY_SIZE);
        b.setByte(0, 2).setByte(1, 16);
        writeUuid(b, 4, s.namespaceUuid());
        b.setByte(20, 3).setByte(21, 16);
        writeUuid(b, 24, s.namespaceUuid());
        return b;
    }

    /** Active Namespace ID list (CNS 02h): namespace ids greater than {@code after}. */
    static ByteBuf activeNamespaces(Subsystem s, int after) {
        ByteBuf b = page(IDENTIFY_SIZE);
        if (!s.isDiscovery() && Integer.compareUnsigned(after, 1) < 0) {
            b.setIntLE(0, 1);
        }
        return b;
    }

    /** Changed Namespace List (log 04h, figure 211): up to 1024 NSIDs; ours has only NSID 1. */
    static ByteBuf changedNamespaces(boolean namespaceOneChanged) {
        ByteBuf b = page(4096);
        if (namespaceOneChanged) {
            b.setIntLE(0, 1);
        }
        return b;
    }

    static ByteBuf zeroes(int size) {
        return page(size);
    }

    private static void writeUuid(ByteBuf b, int at, UUID u) {
        b.setLong(at, u.getMostSignificantBits());
        b.setLong(at + 8, u.getLeastSignificantBits());
    }

    /** SMART / Health Information (log 02h, figure 207). Data units are thousands of 512-byte units. */
    static ByteBuf smartLog(Subsystem s) {
        ByteBuf b = page(512);
        b.setShortLE(1, 313);                                      // composite temperature, kelvin
        b.setByte(3, 100);                                         // available spare
        b.setByte(4, 10);                                          // available spare threshold
        b.setLongLE(32, (s.bytesRead.sum() / 512 + 999) / 1000);
        b.setLongLE(48, (s.bytesWritten.sum() / 512 + 999) / 1000);
        b.setLongLE(64, s.readCommands.sum());
        b.setLongLE(80, s.writeCommands.sum());
        return b;
    }

    /** Firmware Slot Information (log 03h). */
    static ByteBuf firmwareLog() {
        ByteBuf b = page(512);
        b.setByte(0, 1);
        ascii(b, 8, 8, "1.0");
        return b;
    }

    /** ANA log (0Ch, figure 221): one group, in this path's ANA state; with RGO (LSP bit 0) no NSID lists. */
    static ByteBuf anaLog(Subsystem s, boolean groupsOnly) {
        boolean ns = !s.isDiscovery() && !groupsOnly;
        ByteBuf b = page(16 + 32 + (ns ? 4 : 0));
        long changes = s.anaChangeCount();
        b.setLongLE(0, changes);                                   // CHGCNT
        b.setShortLE(8, 1);                                        // NGRPS
        b.setIntLE(16, ANA_GROUP);                                 // ANAGRPID
        b.setIntLE(20, ns ? 1 : 0);                                // NNSIDS
        b.setLongLE(24, changes);                                  // CHGCNT of the group
        b.setByte(32, s.anaState().anas());                        // ANAS
        if (ns) {
            b.setIntLE(48, 1);
        }
        return b;
    }

    /** Discovery log page (log 70h, NVMe-oF 1.1 figure 31/32): one 1024-byte entry per visible subsystem. */
    static ByteBuf discoveryLog(long generation, List<Subsystem> visible, InetAddress address, int port) {
        ByteBuf b = page(1024 + 1024 * visible.size());
        b.setLongLE(0, generation);                                // GENCTR
        b.setLongLE(8, visible.size());                            // NUMREC
        b.setShortLE(16, 0);                                       // RECFMT
        String traddr = address.getHostAddress();
        int pct = traddr.indexOf('%');
        if (pct >= 0) {
            traddr = traddr.substring(0, pct);
        }
        for (int i = 0; i < visible.size(); i++) {
            int e = 1024 + i * 1024;
            b.setByte(e, 3);                                       // TRTYPE: TCP
            b.setByte(e + 1, address instanceof Inet6Address ? 2 : 1); // ADRFAM
            b.setByte(e + 2, 2);                                   // SUBTYPE: NVM subsystem
            b.setByte(e + 3, 0x02);                                // TREQ: secure channel not required
            b.setShortLE(e + 4, 1);                                // PORTID
            b.setShortLE(e + 6, 0xFFFF);                           // CNTLID: dynamic
            b.setShortLE(e + 8, 32);                               // ASQSZ
            ascii(b, e + 32, 32, Integer.toString(port));          // TRSVCID
            nqn(b, e + 256, visible.get(i).nqn());                 // SUBNQN
            ascii(b, e + 512, 256, traddr);                        // TRADDR
            b.setByte(e + 768, 0);                                 // TSAS.SECTYPE: none
        }
        return b;
    }
}
