package io.javastor.core.placement;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import io.javastor.core.operation.CoreException;

/** Whatever the cluster looks like, a placement either keeps every rule or explains itself. */
class ReplicaPlacerPropertiesTest {

    private final ReplicaPlacer placer = new ReplicaPlacer(300);

    @Property(tries = 300)
    void chosenPoolsKeepEveryRule(@ForAll("clusters") List<Candidate> cluster, @ForAll @IntRange(min = 1, max = 4) int count,
                                  @ForAll boolean thin, @ForAll @IntRange(min = 1, max = 64) int sizeMb) {
        long size = sizeMb * (1L << 20);
        PlacementRequest r = new PlacementRequest("v", size, thin, count, Map.of("zone", "a"), Map.of(), Set.of("n0"));
        try {
            List<Candidate> chosen = placer.place(r, cluster);
            assertThat(chosen).hasSize(count);
            Set<String> nodes = new HashSet<>();
            for (Candidate c : chosen) {
                assertThat(nodes.add(c.nodeId())).as("one replica per node").isTrue();
                assertThat(c.nodeId()).isNotEqualTo("n0");
                assertThat(c.nodeOnline()).isTrue();
                assertThat(c.nodeCordoned()).isFalse();
                assertThat(c.poolOnline()).isTrue();
                assertThat(c.nodeLabels()).containsEntry("zone", "a");
                if (thin) {
                    assertThat(c.committed() + size).isLessThanOrEqualTo(c.capacity() * 3);
                } else {
                    assertThat(c.free()).isGreaterThanOrEqualTo(size);
                }
            }
        } catch (CoreException.ResourceExhausted e) {
            // Every candidate that was not found suitable is named with a reason.
            var m = java.util.regex.Pattern.compile("found (\\d+) suitable").matcher(e.getMessage());
            assertThat(m.find()).isTrue();
            int suitable = Integer.parseInt(m.group(1));
            assertThat(suitable).isLessThan(count);
            long named = cluster.stream().filter(c -> e.getMessage().contains("pool " + c.poolId() + " on node " + c.nodeId() + ": ")).count();
            assertThat(named).isEqualTo(cluster.size() - suitable);
        }
    }

    @Provide
    Arbitrary<List<Candidate>> clusters() {
        Arbitrary<Candidate> candidate = Combinators.combine(
                Arbitraries.integers().between(0, 5), Arbitraries.of(true, false), Arbitraries.of(true, false),
                Arbitraries.of("a", "b"), Arbitraries.of(true, false), Arbitraries.longs().between(0, 128),
                Arbitraries.longs().between(0, 128), Arbitraries.integers().between(0, 5))
                .as((node, online, cordoned, zone, poolOnline, capMb, usedMb, replicas) -> new Candidate("n" + node, online,
                        cordoned, Map.of("zone", zone), "p" + node + "-" + capMb + "-" + usedMb, poolOnline, Map.of(),
                        capMb << 20, Math.min(usedMb, capMb) << 20, usedMb << 20, replicas, 0));
        return candidate.list().ofMaxSize(12).uniqueElements(Candidate::poolId);
    }
}
