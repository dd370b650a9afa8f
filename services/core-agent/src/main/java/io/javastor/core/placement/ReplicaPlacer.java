package io.javastor.core.placement;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.javastor.core.CoreException;

/**
 * Chooses pools for new replicas. Rules: one replica per node; only Online, uncordoned nodes and
 * Online pools; enough free space (thick) or overcommit headroom (thin); every topology label must
 * match. Among the eligible: fewest affinity-group members on the node first (spread the group),
 * then fewest replicas on the node, then the most free space; pool id breaks ties so the choice is
 * deterministic. When too few fit, ResourceExhausted says why each candidate was rejected.
 */
public final class ReplicaPlacer {

    private static final Comparator<Candidate> PREFERENCE = Comparator
            .comparingInt(Candidate::groupMembersOnNode)
            .thenComparingInt(Candidate::replicasOnNode)
            .thenComparing(Comparator.comparingLong(Candidate::free).reversed())
            .thenComparing(Candidate::poolId);

    private final int thinOvercommitPercent;

    public ReplicaPlacer(int thinOvercommitPercent) {
        if (thinOvercommitPercent < 100) {
            throw new IllegalArgumentException("thin overcommit must be at least 100%: " + thinOvercommitPercent);
        }
        this.thinOvercommitPercent = thinOvercommitPercent;
    }

    public List<Candidate> place(PlacementRequest request, List<Candidate> candidates) {
        List<String> rejections = new ArrayList<>();
        List<Candidate> eligible = new ArrayList<>();
        for (Candidate c : candidates) {
            String why = rejection(request, c);
            if (why == null) {
                eligible.add(c);
            } else {
                rejections.add("pool " + c.poolId() + " on node " + c.nodeId() + ": " + why);
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
                rejections.add("pool " + c.poolId() + " on node " + c.nodeId() + ": node already has a replica of this volume");
            }
        }
        if (chosen.size() < request.count()) {
            throw new CoreException.ResourceExhausted("volume " + request.volumeId() + ": needs " + request.count()
                    + " replica(s) of " + request.size() + " bytes on distinct nodes, found " + chosen.size()
                    + " suitable pool(s)" + (rejections.isEmpty() ? "; no pools exist" : "; rejected: " + String.join("; ", rejections)));
        }
        return chosen;
    }

    /** Why this candidate cannot take the replica, or null if it can. */
    private String rejection(PlacementRequest r, Candidate c) {
        if (r.excludedNodes().contains(c.nodeId())) {
            return "node already has a replica of this volume";
        }
        if (!c.nodeOnline()) {
            return "node is not Online";
        }
        if (c.nodeCordoned()) {
            return "node is cordoned";
        }
        if (!c.poolOnline()) {
            return "pool is not Online";
        }
        String label = missingLabel(r.nodeLabels(), c.nodeLabels());
        if (label != null) {
            return "node lacks topology label " + label;
        }
        label = missingLabel(r.poolLabels(), c.poolLabels());
        if (label != null) {
            return "pool lacks topology label " + label;
        }
        if (r.thin()) {
            long limit = Math.multiplyExact(c.capacity() / 100, thinOvercommitPercent) + c.capacity() % 100 * thinOvercommitPercent / 100;
            if (c.committed() + r.size() > limit) {
                return "thin overcommit limit reached (committed " + c.committed() + " + " + r.size() + " > "
                        + thinOvercommitPercent + "% of capacity " + c.capacity() + ")";
            }
        } else if (c.free() < r.size()) {
            return "not enough free space (" + c.free() + " < " + r.size() + " bytes)";
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
