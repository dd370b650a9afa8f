package io.javastor.ioengine.nexus;

import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.nvmf.auth.DhchapKeys;
import io.javastor.ioengine.reservation.NamespaceReservations;
import io.javastor.ioengine.nvmf.pdu.AnaState;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.pool.PoolRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/** The nexuses of this io-engine, their creation specs (for idempotence) and their NVMe-oF shares. */
public final class NexusRegistry implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NexusRegistry.class);
    public static final String NQN_PREFIX = "nqn.2019-05.io.javastor:";
    private static final Pattern HOST_NQN = Pattern.compile("nqn\\.\\d{4}-\\d{2}\\.[a-zA-Z0-9.-]+(:[\\x21-\\x7e]+)?");

    /** What CreateNexus asked for: a repeated create with the same spec returns the nexus. */
    /** @param reservationKey the key the nexus fences its children with (0: none); another key is another nexus */
    public record Spec(long size, Set<String> children, long reservationKey) {
    }

    /** A published nexus. */
    public record Share(String nqn, String uri, Set<String> allowedHosts) {
    }

    private final ChildDeviceOpener opener;
    private final NvmfTarget target;
    private final String advertisedHost;
    private final NexusOptions options;
    private final ChildHealthLedger ledger;
    private final Map<UUID, Nexus> nexuses = new ConcurrentHashMap<>();
    private final Map<UUID, Spec> specs = new ConcurrentHashMap<>();
    private final Map<UUID, Share> shares = new ConcurrentHashMap<>();

    public NexusRegistry(ChildDeviceOpener opener, NvmfTarget target, String advertisedHost, NexusOptions options) {
        this(opener, target, advertisedHost, options, ChildHealthLedger.NONE);
    }

    public NexusRegistry(ChildDeviceOpener opener, NvmfTarget target, String advertisedHost, NexusOptions options,
                         ChildHealthLedger ledger) {
        this.ledger = ledger;
        this.opener = opener;
        this.target = target;
        this.advertisedHost = advertisedHost;
        this.options = options;
    }

    public static String nqnOf(UUID uuid) {
        return NQN_PREFIX + uuid;
    }

    public synchronized Nexus create(String uuidText, long size, List<String> children) {
        return create(uuidText, size, children, 0);
    }

    /**
     * Creates the nexus, fencing its children with {@code reservationKey} (the volume's target generation; 0: no
     * fencing): a nexus with an older key, on any node, can no longer write to them. Idempotent for the same spec.
     */
    public synchronized Nexus create(String uuidText, long size, List<String> children, long reservationKey) {
        return create(uuidText, size, children, reservationKey, Map.of());
    }

    /** As above, authenticating to remote children with {@code childKeys} (DH-HMAC-CHAP secrets by child URI). */
    public synchronized Nexus create(String uuidText, long size, List<String> children, long reservationKey,
                                     Map<String, DhchapKeys> childKeys) {
        UUID uuid = PoolRegistry.parseUuid(uuidText);
        if (size <= 0) {
            throw EngineException.invalid("size", "must be greater than 0, got " + size);
        }
        if (children.isEmpty()) {
            throw EngineException.invalid("children", "at least one child URI is required");
        }
        for (String c : children) {
            if (c.isBlank()) {
                throw EngineException.invalid("children", "a child URI is empty");
            }
        }
        Spec spec = new Spec(size, Set.copyOf(new TreeSet<>(children)), reservationKey);
        Nexus existing = nexuses.get(uuid);
        if (existing != null) {
            if (specs.get(uuid).equals(spec)) {
                return existing;
            }
            throw EngineException.exists("nexus " + uuid + " exists with size " + specs.get(uuid).size() + ", children "
                    + specs.get(uuid).children() + " and reservation key " + specs.get(uuid).reservationKey());
        }
        for (String keyed : childKeys.keySet()) {
            if (!children.contains(keyed)) {
                throw EngineException.invalid("child_dhchap", "secrets for '" + keyed + "', which is not a child");
            }
        }
        Nexus n = Nexus.create(uuid, size, children, opener, options, ledger, reservationKey, childKeys);
        nexuses.put(uuid, n);
        specs.put(uuid, spec);
        return n;
    }

    /**
     * Grows a nexus (see {@link Nexus#resize}); a published one then tells its hosts through a Namespace Attribute
     * Changed notice, so they rescan and see the new size while connected. Idempotent.
     */
    public Nexus resize(String uuidText, long requestedSize) {
        Nexus n = require(uuidText);
        boolean grew = n.resize(requestedSize);
        Share s;
        synchronized (this) {
            Spec old = specs.get(n.uuid());
            if (old != null) {
                specs.put(n.uuid(), new Spec(n.size(), old.children(), old.reservationKey()));
            }
            s = shares.get(n.uuid());
        }
        if (grew && s != null) {
            target.notifyNamespaceChanged(s.nqn());
            LOG.info("nexus={} resized to {} bytes while published: hosts of {} notified", n.uuid(), n.size(), s.nqn());
        }
        return n;
    }

    public Nexus require(String uuidText) {
        UUID uuid = PoolRegistry.parseUuid(uuidText);
        Nexus n = nexuses.get(uuid);
        if (n == null) {
            throw EngineException.notFound("nexus " + uuid);
        }
        return n;
    }

    public Optional<Nexus> find(UUID uuid) {
        return Optional.ofNullable(nexuses.get(uuid));
    }

    public List<Nexus> list() {
        return new ArrayList<>(nexuses.values());
    }

    /** Unpublishes and shuts the nexus down. A nexus that does not exist is already destroyed. */
    public void destroy(String uuidText) {
        UUID uuid = PoolRegistry.parseUuid(uuidText);
        Nexus n;
        synchronized (this) {
            n = nexuses.get(uuid);
            if (n == null) {
                return;
            }
            unpublish(uuid);
        }
        n.destroy();
        synchronized (this) {
            nexuses.remove(uuid, n);
            specs.remove(uuid);
        }
        LOG.info("nexus={} destroyed", uuid);
        if (!n.shutdownClean()) {
            // The caller must not record a clean shutdown (its children may differ); asked again, the nexus is gone and
            // the caller sees that it was not running, which says the same.
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "nexus " + uuid + " is shut down, but not cleanly: a child "
                    + "could not be flushed and its fault could not be recorded; treat its children as possibly different");
        }
    }

    /** Exports the nexus over NVMe-oF/TCP (or replaces the allowed hosts of its export). */
    public synchronized Share publish(String uuidText, List<String> allowedHosts) {
        return publish(uuidText, allowedHosts, Map.of());
    }

    /**
     * As above, with DH-HMAC-CHAP secrets by host NQN: each host must authenticate with its own (NVMe in-band
     * authentication), and a host without any is refused.
     */
    public synchronized Share publish(String uuidText, List<String> allowedHosts, Map<String, DhchapKeys> hostKeys) {
        Nexus n = require(uuidText);
        Set<String> hosts = new TreeSet<>();
        for (String h : allowedHosts) {
            if (h.length() > 223 || !HOST_NQN.matcher(h).matches()) {
                throw EngineException.invalid("allowed_hosts", "'" + h + "' is not a host NQN (nqn.yyyy-mm.domain:name)");
            }
            hosts.add(h);
        }
        if (target == null) {
            throw new EngineException(EngineException.Kind.FAILED_PRECONDITION, "this io-engine has no NVMe-oF target");
        }
        String nqn = nqnOf(n.uuid());
        target.addSubsystem(nqn, n, n.uuid().toString().replace("-", "").substring(0, 20), "Javastor nexus", hosts,
                NamespaceReservations.inMemory(nqn), hostKeys);
        Share s = new Share(nqn, "nvmf://" + advertisedHost + ":" + target.port() + "/" + nqn, Set.copyOf(hosts));
        Share old = shares.put(n.uuid(), s);
        if (old == null) {
            if (n.reservationKey() != 0) {
                int[] ids = controllerIdRange(n.reservationKey());
                target.controllerIds(nqn, ids[0], ids[1]);
            }
            // Fenced by a newer target: this path turns Inaccessible, and multipath hosts move their I/O off it.
            n.onFenced(() -> target.anaState(nqn, AnaState.INACCESSIBLE));
        }
        if (old == null || !old.allowedHosts().equals(s.allowedHosts())) {
            LOG.info("nexus={} published as {} to {}", n.uuid(), s.uri(), hosts.isEmpty() ? "any host" : hosts);
        }
        return s;
    }

    /**
     * The controller ids a target of generation {@code key} hands out: one of 31 ranges of 2048, the next generation
     * the next range, so a volume's new target never gives a multipath host an id its old path still has.
     */
    static int[] controllerIdRange(long key) {
        int first = (int) Long.remainderUnsigned(key - 1, 31) * 2048 + 1;
        return new int[] {first, first + 2047};
    }

    public synchronized void unpublish(UUID uuid) {
        Share s = shares.remove(uuid);
        if (s != null) {
            target.removeSubsystem(s.nqn());
            LOG.info("nexus={} unpublished", uuid);
        }
    }

    public Share share(UUID uuid) {
        return shares.get(uuid);
    }

    @Override
    public void close() {
        for (Nexus n : list()) {
            try {
                destroy(n.uuid().toString());
            } catch (EngineException e) {
                LOG.warn("nexus={} at engine shutdown: {}", n.uuid(), e.getMessage()); // the others still shut down
            }
        }
    }
}
