package io.javastor.ioengine.replica;

import io.javastor.ioengine.device.BlockDevice;

import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.nvmf.auth.DhchapKeys;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.reservation.ReservationRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Replicas exported over NVMe-oF/TCP, one subsystem each ({@code nqn.2019-05.io.javastor:<uuid>}).
 * Shares are not persisted: after a restart the core agent shares again what it needs (as in Mayastor).
 */
public final class ReplicaShares {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaShares.class);
    public static final String NQN_PREFIX = "nqn.2019-05.io.javastor:";
    /** NVMe base spec 4.5: an NQN is at most 223 bytes; ours are the nqn.yyyy-mm.reverse-domain form. */
    private static final Pattern HOST_NQN = Pattern.compile("nqn\\.\\d{4}-\\d{2}\\.[a-zA-Z0-9.-]+(:[\\x21-\\x7e]+)?");

    public record Share(UUID replica, String nqn, String uri, Set<String> allowedHosts) {
    }

    private final NvmfTarget target;
    private final String advertisedHost;
    private final Map<UUID, Share> shares = new ConcurrentHashMap<>();
    /** Each shared replica's writer opening, held by the share until it is removed. */
    private final Map<UUID, BlockDevice> openings = new ConcurrentHashMap<>();

    private final ReservationRegistry reservations;

    /** @param reservations the replicas' reservations, which a share serves to its hosts */
    public ReplicaShares(NvmfTarget target, String advertisedHost, ReservationRegistry reservations) {
        this.target = target;
        this.advertisedHost = advertisedHost;
        this.reservations = reservations;
    }

    public static String nqnOf(UUID uuid) {
        return NQN_PREFIX + uuid;
    }

    /** Shares (or re-shares with a new host list). Idempotent. */
    public synchronized Share share(Replica replica, List<String> allowedHosts) {
        return share(replica, allowedHosts, Map.of());
    }

    /**
     * As above, with DH-HMAC-CHAP secrets by host NQN: each host must authenticate with its own (the link from a nexus
     * on another node), and a host without any is refused.
     */
    public synchronized Share share(Replica replica, List<String> allowedHosts, Map<String, DhchapKeys> hostKeys) {
        Set<String> hosts = new TreeSet<>();
        for (String h : allowedHosts) {
            if (h.length() > 223 || !HOST_NQN.matcher(h).matches()) {
                throw EngineException.invalid("allowed_hosts", "'" + h + "' is not a host NQN (nqn.yyyy-mm.domain:name)");
            }
            hosts.add(h);
        }
        String nqn = nqnOf(replica.uuid());
        // The share is the replica's one writer while it exists: a local nexus cannot open it meanwhile.
        BlockDevice opening = openings.get(replica.uuid());
        if (opening == null) {
            opening = replica.openForWriting("NVMe-oF share " + nqn);
        }
        try {
            target.addSubsystem(nqn, opening, serial(replica.uuid()), "Javastor replica", hosts, reservations.forReplica(replica.uuid()), hostKeys);
        } catch (RuntimeException e) {
            if (!openings.containsKey(replica.uuid())) {
                opening.close();
            }
            throw e;
        }
        openings.put(replica.uuid(), opening);
        Share s = new Share(replica.uuid(), nqn, "nvmf://" + advertisedHost + ":" + target.port() + "/" + nqn, Set.copyOf(hosts));
        Share old = shares.put(replica.uuid(), s);
        if (old == null || !old.allowedHosts().equals(s.allowedHosts())) {
            LOG.info("replica={} shared as {} to {}{}", replica.uuid(), s.uri(), hosts.isEmpty() ? "any host" : hosts,
                    hostKeys.isEmpty() ? "" : " with DH-HMAC-CHAP");
        }
        return s;
    }

    /** Removes the share (disconnecting its hosts). Idempotent. */
    public synchronized void unshare(UUID replica) {
        Share s = shares.remove(replica);
        if (s != null) {
            target.removeSubsystem(s.nqn());
            LOG.info("replica={} unshared", replica);
        }
        BlockDevice opening = openings.remove(replica);
        if (opening != null) {
            opening.close();
        }
    }

    /** The replica grew: its hosts get a Namespace Attribute Changed notice (no-op when not shared). */
    public void resized(UUID replica) {
        Share s = shares.get(replica);
        if (s != null) {
            target.notifyNamespaceChanged(s.nqn());
            LOG.info("replica={} resized while shared: hosts of {} notified", replica, s.nqn());
        }
    }

    public Share share(UUID replica) {
        return shares.get(replica);
    }

    /** NVMe serial numbers are 20 ASCII characters: derive a stable one from the uuid. */
    static String serial(UUID uuid) {
        return uuid.toString().replace("-", "").substring(0, 20);
    }
}
