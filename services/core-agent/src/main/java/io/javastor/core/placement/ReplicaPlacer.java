package io.javastor.core.placement;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.javastor.core.operation.CoreException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Chooses pools for new replicas. Rules: one replica per node; only Online, uncordoned nodes and
 * Online pools; enough free space (thick) or overcommit headroom (thin); every topology label must
 * match. Among the eligible: fewest affinity-group members on the node first (spread the group),
 * then fewest replicas on the node, then the most free space; pool id breaks ties so the choice is
 * deterministic. When too few fit, ResourceExhausted says why each candidate was rejected, and
 * {@code javastor_placement_refusals_total{reason}} counts the refusal once per reason it met (an operator's
 * alert: pools full, nodes cordoned, labels nobody has).
 */
public final class ReplicaPlacer {

    private static final Comparator<Candidate> PREFERENCE = Comparator
            .comparingInt(Candidate::groupMembersOnNode)
            .thenComparingInt(Candidate::replicasOnNode)
            .thenComparing(Comparator.comparingLong(Candidate::free).reversed())
            .thenComparing(Candidate::poolId);

    /** Why a pool could not take a replica: the {@code reason} tag of the refusal counter. */
    public enum Refusal {
        SAME_NODE, NODE_OFFLINE, NODE_CORDONED, POOL_OFFLINE, NODE_LABEL, POOL_LABEL, THIN_OVERCOMMIT, NO_SPACE,
        /** Every pool was fine, there are just not enough of them on distinct nodes (or none at all). */
        TOO_FEW_POOLS;

        String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private record Rejection(Refusal reason, String why) {
    }

    private final int thinOvercommitPercent;
    private final MeterRegistry meters;

    public ReplicaPlacer(int thinOvercommitPercent) {
        this(thinOvercommitPercent, new SimpleMeterRegistry());
    }

    public ReplicaPlacer(int thinOvercommitPercent, MeterRegistry meters) {
        if (thinOvercommitPercent < 100) {
            throw new IllegalArgumentException("thin overcommit must be at least 100%: " + thinOvercommitPercent);
        }
        this.thinOvercommitPercent = thinOvercommitPercent;
        this.meters = meters;
    }

    public List<Candidate> place(PlacementRequest request, List<Candidate> candidates) {
        List<String> rejections = new ArrayList<>();
        Set<Refusal> reasons = java.util.EnumSet.noneOf(Refusal.class);
        List<Candidate> eligible = new ArrayList<>();
        for (Candidate c : candidates) {
            Rejection no = rejection(request, c);
            if (no == null) {
                eligible.add(c);
            } else {
                reasons.add(no.reason());
                rejections.add("pool " + c.poolId() + " on node " + c.nodeId() + ": " + no.why());
            }
        }
        eligible.sort(PREFERENCE);
        List<Candidate> chosen = new ArrayList<>(request.count());
        Set<String> usedNodes = new HashSet<>(request.excludedNodes());
        for (Candidate c : eligible) {
            if (chosen.size() == request.count()) {
                break;
            }
            if (usedNodes.add(c.nodeId())) {
                chosen.add(c);
            } else {
                reasons.add(Refusal.SAME_NODE);
                rejections.add("pool " + c.poolId() + " on node " + c.nodeId() + ": node already has a replica of this volume");
            }
        }
        if (chosen.size() < request.count()) {
            if (reasons.isEmpty()) {
                reasons.add(Refusal.TOO_FEW_POOLS);
            }
            reasons.forEach(r -> meters.counter("javastor.placement.refusals", "reason", r.tag()).increment());
            throw new CoreException.ResourceExhausted("volume " + request.volumeId() + ": needs " + request.count()
                    + " replica(s) of " + request.size() + " bytes on distinct nodes, found " + chosen.size()
                    + " suitable pool(s)" + (rejections.isEmpty() ? "; no pools exist" : "; rejected: " + String.join("; ", rejections)));
        }
        return chosen;
    }

    /** Why this candidate cannot take the replica, or null if it can. */
    private Rejection rejection(PlacementRequest r, Candidate c) {
        if (r.excludedNodes().contains(c.nodeId())) {
            return new Rejection(Refusal.SAME_NODE, "node already has a replica of this volume");
        }
        if (!c.nodeOnline()) {
            return new Rejection(Refusal.NODE_OFFLINE, "node is not Online");
        }
        if (c.nodeCordoned()) {
            return new Rejection(Refusal.NODE_CORDONED, "node is cordoned");
        }
        if (!c.poolOnline()) {
            return new Rejection(Refusal.POOL_OFFLINE, "pool is not Online");
        }
        String label = missingLabel(r.nodeLabels(), c.nodeLabels());
        if (label != null) {
            return new Rejection(Refusal.NODE_LABEL, "node lacks topology label " + label);
        }
        label = missingLabel(r.poolLabels(), c.poolLabels());
        if (label != null) {
            return new Rejection(Refusal.POOL_LABEL, "pool lacks topology label " + label);
        }
        if (r.thin()) {
            long limit = Math.multiplyExact(c.capacity() / 100, thinOvercommitPercent) + c.capacity() % 100 * thinOvercommitPercent / 100;
            if (c.committed() + r.size() > limit) {
                return new Rejection(Refusal.THIN_OVERCOMMIT, "thin overcommit limit reached (committed " + c.committed() + " + "
                        + r.size() + " > " + thinOvercommitPercent + "% of capacity " + c.capacity() + ")");
            }
        } else if (c.free() < r.size()) {
            return new Rejection(Refusal.NO_SPACE, "not enough free space (" + c.free() + " < " + r.size() + " bytes)");
        }
        return null;
    }

    private static String missingLabel(Map<String, String> wanted, Map<String, String> have) {
        for (Map.Entry<String, String> e : wanted.entrySet()) {
            if (!e.getValue().equals(have.get(e.getKey()))) {
                return e.getKey() + "=" + e.getValue();
            }
        }
        return null;
    }
}
