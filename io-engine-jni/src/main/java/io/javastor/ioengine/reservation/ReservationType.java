package io.javastor.ioengine.reservation;

/**
 * Reservation types (NVMe base 2.0, 8.19.1, figure 546) by their RTYPE values: who may write, and who may read, while
 * the reservation is held. "Registrants only" lets every registrant in; "all registrants" makes every registrant a
 * holder.
 */
public enum ReservationType {
    WRITE_EXCLUSIVE(1, false, false, false),
    EXCLUSIVE_ACCESS(2, true, false, false),
    WRITE_EXCLUSIVE_REGISTRANTS_ONLY(3, false, true, false),
    EXCLUSIVE_ACCESS_REGISTRANTS_ONLY(4, true, true, false),
    WRITE_EXCLUSIVE_ALL_REGISTRANTS(5, false, true, true),
    EXCLUSIVE_ACCESS_ALL_REGISTRANTS(6, true, true, true);

    private final int rtype;
    private final boolean exclusiveAccess;
    private final boolean registrantsAllowed;
    private final boolean allRegistrantsHold;

    ReservationType(int rtype, boolean exclusiveAccess, boolean registrantsAllowed, boolean allRegistrantsHold) {
        this.rtype = rtype;
        this.exclusiveAccess = exclusiveAccess;
        this.registrantsAllowed = registrantsAllowed;
        this.allRegistrantsHold = allRegistrantsHold;
    }

    /** The RTYPE value of the spec. */
    public int rtype() {
        return rtype;
    }

    /** Reads are refused too (exclusive access), not only writes. */
    public boolean exclusiveAccess() {
        return exclusiveAccess;
    }

    /** Every registrant, not only the holder, may access the namespace. */
    public boolean registrantsAllowed() {
        return registrantsAllowed;
    }

    /** Every registrant is a holder: the reservation lasts while any registrant is left. */
    public boolean allRegistrantsHold() {
        return allRegistrantsHold;
    }

    /** The type with RTYPE {@code rtype}, or null when it names none (an invalid field). */
    public static ReservationType of(int rtype) {
        for (ReservationType t : values()) {
            if (t.rtype == rtype) {
                return t;
            }
        }
        return null;
    }
}
