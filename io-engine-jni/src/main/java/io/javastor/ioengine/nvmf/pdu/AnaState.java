package io.javastor.ioengine.nvmf.pdu;

/**
 * Asymmetric Namespace Access states (NVMe base 2.0, 8.1.3, figure 221 ANAS): what a path to a namespace offers. A
 * host with native multipath sends I/O to an Optimized path and, when a path answers Inaccessible, retries the I/O on
 * another one: a volume's current target is Optimized, an old one that still answers is Inaccessible. Shared by our
 * target (which reports it) and our host (which follows it).
 */
public enum AnaState {
    OPTIMIZED(0x01),
    NON_OPTIMIZED(0x02),
    INACCESSIBLE(0x03),
    PERSISTENT_LOSS(0x04),
    CHANGE(0x0F);

    private final int anas;

    AnaState(int anas) {
        this.anas = anas;
    }

    /** The ANAS value of the ANA log page. */
    public int anas() {
        return anas;
    }

    /** Whether I/O to the namespace is served on this path. */
    public boolean accessible() {
        return this == OPTIMIZED || this == NON_OPTIMIZED;
    }

    /** The state of an ANAS value (bits 3:0 of the group descriptor's byte 16); unknown values read as Change. */
    public static AnaState of(int anas) {
        for (AnaState s : values()) {
            if (s.anas == (anas & 0x0F)) {
                return s;
            }
        }
        return CHANGE;
    }
}
