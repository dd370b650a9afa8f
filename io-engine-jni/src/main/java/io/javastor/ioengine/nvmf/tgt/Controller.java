package io.javastor.ioengine.nvmf.tgt;

import static io.javastor.ioengine.nvmf.pdu.NvmeProperty.CC_EN;
import static io.javastor.ioengine.nvmf.pdu.NvmeProperty.CC_SHN_SHIFT;
import static io.javastor.ioengine.nvmf.pdu.NvmeProperty.CSTS_CFS;
import static io.javastor.ioengine.nvmf.pdu.NvmeProperty.CSTS_RDY;
import static io.javastor.ioengine.nvmf.pdu.NvmeProperty.CSTS_SHST_COMPLETE;
import static io.javastor.ioengine.nvmf.pdu.NvmeProperty.CSTS_SHST_MASK;
import static io.javastor.ioengine.nvmf.pdu.NvmeProperty.CSTS_SHST_PROCESSING;

import io.javastor.ioengine.reservation.HostAccess;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A dynamic controller (NVMe-oF 1.1, 4.1): created by an admin-queue Connect, owned by one host, holding
 * the controller registers (CC, CSTS), the features a host set, and its I/O queues. It dies with its
 * admin queue, on keep-alive expiry, or when its subsystem is removed.
 */
public final class Controller {
    private static final Logger LOG = LoggerFactory.getLogger(Controller.class);


    private final int cntlid;
    private final Subsystem subsystem;
    private final String hostNqn;
    private final UUID hostId;
    private final NvmfTarget target;
    private final TransportQueue adminQueue;
    private final AsyncEventRequests asyncEvents;
    /** This controller's host under the namespace's reservations (null for a discovery controller). */
    private final HostAccess access;
    private final Map<Integer, TransportQueue> ioQueues = new ConcurrentHashMap<>();
    private int cc;
    private int csts;
    private volatile long katoMillis;
    private volatile long lastKeepAliveNanos = System.nanoTime();
    private volatile int grantedIoQueues;
    private volatile int asyncEventConfig;
    private volatile boolean volatileWriteCache = true;
    private ScheduledFuture<?> keepAliveCheck;
    private volatile boolean destroyed;
    /** Bytes of write buffers this controller's queues hold while waiting for the host's data (see TargetLimits). */
    final java.util.concurrent.atomic.AtomicLong dataBytesHeld = new java.util.concurrent.atomic.AtomicLong();

    Controller(int cntlid, Subsystem subsystem, String hostNqn, UUID hostId, long katoMillis, NvmfTarget target, TransportQueue adminQueue) {
        this.cntlid = cntlid;
        this.subsystem = subsystem;
        this.hostNqn = hostNqn;
        this.hostId = hostId;
        this.katoMillis = katoMillis;
        this.target = target;
        this.adminQueue = adminQueue;
        this.asyncEvents = new AsyncEventRequests(adminQueue);
        this.access = subsystem.reservations() == null ? null : subsystem.reservations().host(hostId);
        this.grantedIoQueues = target.options().maxIoQueues();
    }

    public int cntlid() {
        return cntlid;
    }

    public Subsystem subsystem() {
        return subsystem;
    }

    public String hostNqn() {
        return hostNqn;
    }

    public UUID hostId() {
        return hostId;
    }

    public long keepAliveTimeoutMillis() {
        return katoMillis;
    }

    public int ioQueueCount() {
        return ioQueues.size();
    }

    NvmfTarget target() {
        return target;
    }

    TransportQueue adminQueue() {
        return adminQueue;
    }

    AsyncEventRequests asyncEvents() {
        return asyncEvents;
    }

    HostAccess access() {
        return access;
    }

    synchronized int cc() {
        return cc;
    }

    synchronized int csts() {
        return csts;
    }

    synchronized boolean ready() {
        return (csts & CSTS_RDY) != 0;
    }

    /**
     * Property Set of CC: enabling sets CSTS.RDY, disabling resets the controller. A shutdown notification (SHN) is
     * processing until a flush of the namespace completed, then complete: a host that powers off after it loses
     * nothing it wrote (base 2.0, 3.6.3).
     */
    void writeCc(int value) {
        List<TransportQueue> toClose = List.of();
        boolean shutdownStarted;
        synchronized (this) {
            shutdownStarted = ((value >> CC_SHN_SHIFT) & 3) != 0 && ((cc >> CC_SHN_SHIFT) & 3) == 0;
            boolean wasEnabled = (cc & CC_EN) != 0;
            boolean enable = (value & CC_EN) != 0;
            cc = value;
            if (enable && !wasEnabled) {
                int iosqes = (value >> 16) & 0xF;
                int iocqes = (value >> 20) & 0xF;
                boolean entriesOk = subsystem.isDiscovery() || (iosqes == 6 && iocqes == 4) || (iosqes == 0 && iocqes == 0);
                csts = entriesOk ? (csts | CSTS_RDY) : (csts | CSTS_CFS);
            } else if (!enable && wasEnabled) {
                csts = 0;
                toClose = List.copyOf(ioQueues.values());
            }
            int shn = (value >> CC_SHN_SHIFT) & 3;
            if (shn == 0) {
                csts &= ~CSTS_SHST_MASK;
            } else if (shutdownStarted) {
                csts = (csts & ~CSTS_SHST_MASK) | (subsystem.isDiscovery() ? CSTS_SHST_COMPLETE : CSTS_SHST_PROCESSING);
            }
        }
        if (shutdownStarted && !subsystem.isDiscovery()) {
            subsystem.device().flush().whenComplete((v, t) -> shutdownFlushed(t));
        }
        if (!toClose.isEmpty()) {
            LOG.info("nqn={} cntlid={} controller reset (CC.EN 1->0): closing {} I/O queues", subsystem.nqn(), cntlid, toClose.size());
            toClose.forEach(TransportQueue::close);
        }
    }

    private void shutdownFlushed(Throwable failure) {
        synchronized (this) {
            if (((cc >> CC_SHN_SHIFT) & 3) == 0) {
                return; // SHN cleared meanwhile (a reset): nothing to report
            }
            csts = (csts & ~CSTS_SHST_MASK) | CSTS_SHST_COMPLETE | (failure == null ? 0 : CSTS_CFS);
        }
        if (failure != null) {
            LOG.error("nqn={} cntlid={} shutdown flush failed; reporting controller fatal status: {}", subsystem.nqn(), cntlid, failure.toString());
        } else {
            LOG.info("nqn={} cntlid={} shutdown: namespace flushed", subsystem.nqn(), cntlid);
        }
    }

    int grantedIoQueues() {
        return grantedIoQueues;
    }

    /** Set Features Number of Queues: grants up to the target's limit; returns the granted count. */
    int requestIoQueues(int wanted) {
        grantedIoQueues = Math.max(1, Math.min(wanted, target.options().maxIoQueues()));
        return grantedIoQueues;
    }

    int asyncEventConfig() {
        return asyncEventConfig;
    }

    void asyncEventConfig(int v) {
        asyncEventConfig = v;
    }

    boolean volatileWriteCache() {
        return volatileWriteCache;
    }

    void volatileWriteCache(boolean v) {
        volatileWriteCache = v;
    }

    boolean attachIoQueue(int qid, TransportQueue q) {
        return !destroyed && ioQueues.putIfAbsent(qid, q) == null;
    }

    /** The live I/O queue {@code qid}, or null. */
    TransportQueue ioQueue(int qid) {
        return ioQueues.get(qid);
    }

    void detachIoQueue(int qid, TransportQueue q) {
        ioQueues.remove(qid, q);
    }

    void keepAlive() {
        lastKeepAliveNanos = System.nanoTime();
    }

    /** Starts (or restarts, after Set Features KATO) the keep-alive timeout check on the admin queue's loop. */
    void keepAliveTimeout(long millis) {
        katoMillis = millis;
        keepAlive();
        synchronized (this) {
            if (keepAliveCheck != null) {
                keepAliveCheck.cancel(false);
                keepAliveCheck = null;
            }
            if (millis > 0 && !destroyed) {
                long period = Math.max(50, Math.min(1000, millis / 4));
                keepAliveCheck = adminQueue.eventLoop().scheduleAtFixedRate(this::checkKeepAlive, period, period, TimeUnit.MILLISECONDS);
            }
        }
    }

    private void checkKeepAlive() {
        long kato = katoMillis;
        long idle = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastKeepAliveNanos);
        if (kato > 0 && idle > kato) {
            LOG.warn("nqn={} cntlid={} host={} keep-alive timeout: no keep-alive for {} ms (KATO {} ms); tearing down the controller",
                    subsystem.nqn(), cntlid, hostNqn, idle, kato);
            destroy();
        }
    }

    /** Tears the controller down: closes every queue's connection and forgets it. Idempotent. */
    void destroy() {
        List<TransportQueue> queues;
        synchronized (this) {
            if (destroyed) {
                return;
            }
            destroyed = true;
            if (keepAliveCheck != null) {
                keepAliveCheck.cancel(false);
            }
            queues = List.copyOf(ioQueues.values());
            ioQueues.clear();
        }
        subsystem.unregister(this);
        target.releaseControllerId(cntlid);
        queues.forEach(TransportQueue::close);
        adminQueue.close();
        LOG.info("nqn={} cntlid={} host={} controller destroyed", subsystem.nqn(), cntlid, hostNqn);
    }

    public boolean isDestroyed() {
        return destroyed;
    }

    /** Async Event Configuration (Set Features 0Bh) bit 8: Namespace Attribute Notices. */
    static final int AEC_NS_ATTRIBUTE = 1 << 8;
    /** Completion dw0 of the notice: type 2h (notice), information 00h (namespace attribute changed), log page 04h. */
    static final int AEN_NS_ATTRIBUTE_CHANGED = 0x2 | (0x00 << 8) | (0x04 << 16);

    /** Async Event Configuration bit 11: ANA Change Notices. */
    static final int AEC_ANA_CHANGE = 1 << 11;
    /** Completion dw0 of the notice: type 2h (notice), information 03h (ANA change), log page 0Ch. */
    static final int AEN_ANA_CHANGE = 0x2 | (0x03 << 8) | (0x0C << 16);
    /** An ANA change notice was sent and the ANA log page not read since (RAE cleared). Guarded by this. */
    private boolean anaNoticeMasked;

    /** This path's ANA state changed: an ANA Change notice, if the host enabled them and is not yet to read the last one. */
    void anaChanged() {
        boolean send;
        synchronized (this) {
            send = (asyncEventConfig & AEC_ANA_CHANGE) != 0 && !anaNoticeMasked && !destroyed;
            if (send) {
                anaNoticeMasked = true;
            }
        }
        if (send) {
            LOG.info("nqn={} cntlid={} host={}: ANA change notice ({})", subsystem.nqn(), cntlid, hostNqn, subsystem.anaState());
            asyncEvents.notify(AEN_ANA_CHANGE);
        }
    }

    /** The host read the ANA log page; with RAE cleared further ANA notices go out again. */
    synchronized void anaLogRead(boolean retainAsyncEvent) {
        if (!retainAsyncEvent) {
            anaNoticeMasked = false;
        }
    }

    /** NSID 1 is in the Changed Namespace List (log page 04h) until a host reads it. Guarded by this. */
    private boolean namespaceChanged;
    /** A notice was sent and its log page not read yet (RAE cleared): further notices of this type wait (base 2.0, 5.2). */
    private boolean namespaceNoticeMasked;

    /**
     * The namespace changed (it grew): list NSID 1 in the Changed Namespace List and, if the host enabled
     * Namespace Attribute Notices and none is awaiting its log page read, complete an Async Event Request with the
     * notice (queued in the admin queue until the host has one outstanding). Linux answers by reading log 04h and
     * rescanning the namespace, which updates the block device's size.
     */
    void namespaceAttributeChanged() {
        boolean send;
        synchronized (this) {
            namespaceChanged = true;
            send = (asyncEventConfig & AEC_NS_ATTRIBUTE) != 0 && !namespaceNoticeMasked && !destroyed;
            if (send) {
                namespaceNoticeMasked = true;
            }
        }
        if (send) {
            LOG.info("nqn={} cntlid={} host={}: namespace attribute changed notice", subsystem.nqn(), cntlid, hostNqn);
            asyncEvents.notify(AEN_NS_ATTRIBUTE_CHANGED);
        }
    }

    /**
     * Get Log Page 04h: whether NSID 1 is in the Changed Namespace List. Reading it with RAE cleared clears the list
     * and unmasks the notice; with RAE set the list and the mask stay.
     */
    synchronized boolean readChangedNamespaces(boolean retainAsyncEvent) {
        boolean changed = namespaceChanged;
        if (!retainAsyncEvent) {
            namespaceChanged = false;
            namespaceNoticeMasked = false;
        }
        return changed;
    }
}
