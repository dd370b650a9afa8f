package io.javastor.core.placement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.javastor.core.operation.CoreException;

class ReplicaPlacerTest {

    private static final long GIB = 1L << 30;
    private final ReplicaPlacer placer = new ReplicaPlacer(200);

    private static Candidate pool(String node, String pool, long capacity, long used) {
        return new Candidate(node, true, false, Map.of(), pool, true, Map.of(), capacity, used, used, 0, 0);
    }

    private static PlacementRequest thick(int count, long size) {
        return new PlacementRequest("v1", size, false, count, Map.of(), Map.of(), Set.of());
    }

    @Test
    void placesOneReplicaPerNodePreferringMostFreeSpace() {
        List<Candidate> chosen = placer.place(thick(2, GIB), List.of(
                pool("n1", "p1a", 10 * GIB, 8 * GIB),
                pool("n1", "p1b", 10 * GIB, 0),
                pool("n2", "p2", 10 * GIB, 5 * GIB),
                pool("n3", "p3", 10 * GIB, 6 * GIB)));
        assertThat(chosen).extracting(Candidate::poolId).containsExactly("p1b", "p2");
    }

    @Test
    void prefersNodesWithFewestReplicas() {
        Candidate busy = new Candidate("n1", true, false, Map.of(), "p1", true, Map.of(), 100 * GIB, 0, 0, 9, 0);
        Candidate quiet = new Candidate("n2", true, false, Map.of(), "p2", true, Map.of(), 10 * GIB, 0, 0, 1, 0);
        assertThat(placer.place(thick(1, GIB), List.of(busy, quiet))).extracting(Candidate::poolId).containsExactly("p2");
    }

    @Test
    void spreadsAnAffinityGroupAcrossNodesBeforeAnythingElse() {
        Candidate groupHere = new Candidate("n1", true, false, Map.of(), "p1", true, Map.of(), 100 * GIB, 0, 0, 0, 1);
        Candidate groupAbsent = new Candidate("n2", true, false, Map.of(), "p2", true, Map.of(), 10 * GIB, 0, 0, 5, 0);
        assertThat(placer.place(thick(1, GIB), List.of(groupHere, groupAbsent))).extracting(Candidate::poolId).containsExactly("p2");
    }

    @Test
    void thinUsesOvercommitHeadroomAndThickUsesFreeSpace() {
        Candidate full = new Candidate("n1", true, false, Map.of(), "p1", true, Map.of(), 10 * GIB, 10 * GIB, 15 * GIB, 0, 0);
        PlacementRequest thin = new PlacementRequest("v1", 5 * GIB, true, 1, Map.of(), Map.of(), Set.of());
        assertThat(placer.place(thin, List.of(full))).hasSize(1); // 15 + 5 <= 200% of 10
        PlacementRequest thinTooBig = new PlacementRequest("v1", 6 * GIB, true, 1, Map.of(), Map.of(), Set.of());
        assertThatThrownBy(() -> placer.place(thinTooBig, List.of(full)))
                .isInstanceOf(CoreException.ResourceExhausted.class).hasMessageContaining("thin overcommit limit");
        assertThatThrownBy(() -> placer.place(thick(1, GIB), List.of(full)))
                .isInstanceOf(CoreException.ResourceExhausted.class).hasMessageContaining("not enough free space (0 < " + GIB);
    }

    @Test
    void exhaustionListsWhyEachCandidateWasRejected() {
        List<Candidate> all = List.of(
                new Candidate("off", false, false, Map.of(), "p-off", true, Map.of(), 10 * GIB, 0, 0, 0, 0),
                new Candidate("cord", true, true, Map.of(), "p-cord", true, Map.of(), 10 * GIB, 0, 0, 0, 0),
                new Candidate("bad", true, false, Map.of(), "p-bad", false, Map.of(), 10 * GIB, 0, 0, 0, 0),
                new Candidate("zone", true, false, Map.of("zone", "b"), "p-zone", true, Map.of(), 10 * GIB, 0, 0, 0, 0),
                new Candidate("tier", true, false, Map.of("zone", "a"), "p-tier", true, Map.of("tier", "hdd"), 10 * GIB, 0, 0, 0, 0),
                new Candidate("has", true, false, Map.of("zone", "a"), "p-has", true, Map.of("tier", "ssd"), 10 * GIB, 0, 0, 0, 0),
                new Candidate("ok", true, false, Map.of("zone", "a"), "p-ok", true, Map.of("tier", "ssd"), 10 * GIB, 0, 0, 0, 0),
                new Candidate("ok", true, false, Map.of("zone", "a"), "p-ok2", true, Map.of("tier", "ssd"), 10 * GIB, 0, 0, 0, 0));
        PlacementRequest r = new PlacementRequest("vol-9", GIB, false, 2, Map.of("zone", "a"), Map.of("tier", "ssd"), Set.of("has"));
        assertThatThrownBy(() -> placer.place(r, all))
                .isInstanceOf(CoreException.ResourceExhausted.class)
                .hasMessageContaining("volume vol-9: needs 2 replica(s)")
                .hasMessageContaining("found 1 suitable pool(s)")
                .hasMessageContaining("pool p-off on node off: node is not Online")
                .hasMessageContaining("pool p-cord on node cord: node is cordoned")
                .hasMessageContaining("pool p-bad on node bad: pool is not Online")
                .hasMessageContaining("pool p-zone on node zone: node lacks topology label zone=a")
                .hasMessageContaining("pool p-tier on node tier: pool lacks topology label tier=ssd")
                .hasMessageContaining("pool p-has on node has: node already has a replica of this volume")
                .hasMessageContaining("pool p-ok2 on node ok: node already has a replica of this volume");
    }

    @Test
    void noPoolsAtAllSaysSo() {
        assertThatThrownBy(() -> placer.place(thick(1, GIB), List.of()))
                .isInstanceOf(CoreException.ResourceExhausted.class).hasMessageContaining("no pools exist");
    }
}
