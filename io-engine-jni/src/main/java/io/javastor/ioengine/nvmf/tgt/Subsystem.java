package io.javastor.ioengine.nvmf.tgt;

import io.javastor.ioengine.nvmf.pdu.AnaState;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.nvmf.auth.DhchapKeys;
import io.javastor.ioengine.reservation.NamespaceReservations;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * An NVM subsystem exported by the target: one namespace (NSID 1) on a {@link BlockDevice}, or the
 * discovery subsystem (no device). The namespace's NGUID and UUID derive from the NQN, so they stay the
 * same for every controller and across restarts.
 */
public final class Subsystem {
    public static final String DISCOVERY_NQN = "nqn.2014-08.org.nvmexpress.discovery";

    private final String nqn;
    private final BlockDevice device;
    private final String serial;
    private final String model;
    private volatile Set<String> allowedHosts;
    /** DH-HMAC-CHAP secrets by host NQN; when there are any, every host must authenticate (and hosts without are refused). */
    private volatile Map<String, DhchapKeys> hostKeys = Map.of();
    private final UUID namespaceUuid;
    /** This path's ANA state and the count of its changes (the log page's CHGCNT). */
    private volatile AnaState anaState = AnaState.OPTIMIZED;
    private final java.util.concurrent.atomic.AtomicLong anaChanges = new java.util.concurrent.atomic.AtomicLong(1);
    /** Controller ids of this subsystem, [first, last]: two targets of one volume never hand out the same id. */
    private volatile int firstControllerId = 1;
    private volatile int lastControllerId = 0xFFEF;
    /** The namespace's reservations (null for the discovery subsystem). */
    private final NamespaceReservations reservations;
    private final Map<Integer, Controller> controllers = new ConcurrentHashMap<>();
    final LongAdder readCommands = new LongAdder();
    final LongAdder writeCommands = new LongAdder();
    final LongAdder bytesRead = new LongAdder();
    final LongAdder bytesWritten = new LongAdder();

    Subsystem(String nqn, BlockDevice device, String serial, String model, Set<String> allowedHosts, NamespaceReservations reservations) {
        this.nqn = nqn;
        this.reservations = reservations;
        this.device = device;
        this.serial = serial;
        this.model = model;
        this.allowedHosts = Set.copyOf(allowedHosts);
        this.namespaceUuid = UUID.nameUUIDFromBytes(nqn.getBytes(StandardCharsets.UTF_8));
    }

    public String nqn() {
        return nqn;
    }

    public NamespaceReservations reservations() {
        return reservations;
    }

    public AnaState anaState() {
        return anaState;
    }

    long anaChangeCount() {
        return anaChanges.get();
    }

    /** Sets the ANA state; true when it changed (then the change count went up). */
    boolean anaState(AnaState next) {
        synchronized (anaChanges) {
            if (anaState == next) {
                return false;
            }
            anaState = next;
            anaChanges.incrementAndGet();
            return true;
        }
    }

    int firstControllerId() {
        return firstControllerId;
    }

    int lastControllerId() {
        return lastControllerId;
    }

    void controllerIds(int first, int last) {
        this.firstControllerId = first;
        this.lastControllerId = last;
    }

    /** The namespace's device; null for the discovery subsystem. */
    public BlockDevice device() {
        return device;
    }

    public boolean isDiscovery() {
        return device == null;
    }

    public String serial() {
        return serial;
    }

    public String model() {
        return model;
    }

    public Set<String> allowedHosts() {
        return allowedHosts;
    }

    void allowedHosts(Set<String> hosts) {
        this.allowedHosts = Set.copyOf(hosts);
    }

    /**
     * True when the host may connect: the allowed set is empty (any host) or names it, and when hosts authenticate on
     * this subsystem, it has a secret here.
     */
    public boolean allows(String hostNqn) {
        Set<String> a = allowedHosts;
        Map<String, DhchapKeys> k = hostKeys;
        return (a.isEmpty() || a.contains(hostNqn)) && (k.isEmpty() || k.containsKey(hostNqn));
    }

    /** Whether hosts must authenticate in-band (DH-HMAC-CHAP) to use this subsystem. */
    public boolean requiresAuthentication() {
        return !hostKeys.isEmpty();
    }

    /** The host's secrets, or null when it has none here. */
    DhchapKeys keysOf(String hostNqn) {
        return hostKeys.get(hostNqn);
    }

    void hostKeys(Map<String, DhchapKeys> keys) {
        this.hostKeys = Map.copyOf(keys);
    }

    public UUID namespaceUuid() {
        return namespaceUuid;
    }

    /** Controllers currently connected, by controller id. */
    public Collection<Controller> controllers() {
        return List.copyOf(controllers.values());
    }

    Controller controller(int cntlid) {
        return controllers.get(cntlid);
    }

    void register(Controller c) {
        controllers.put(c.cntlid(), c);
    }

    void unregister(Controller c) {
        controllers.remove(c.cntlid(), c);
    }

    @Override
    public String toString() {
        return "Subsystem[" + nqn + (device == null ? " discovery" : " on " + device.uri()) + "]";
    }
}
