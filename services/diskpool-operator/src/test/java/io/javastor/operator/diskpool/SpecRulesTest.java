package io.javastor.operator.diskpool;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.javastor.operator.rest.RestPool;

/** The spec checks on their own: each problem names its field; a good spec has none. */
class SpecRulesTest {

    private static DiskPool dp(String name, String node, List<String> disks) {
        DiskPool dp = new DiskPool();
        dp.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("ns").build());
        dp.setSpec(disks == null && node == null ? null : new DiskPoolSpec(node, disks));
        return dp;
    }

    @Test
    void eachProblemStartsWithItsField() {
        assertThat(SpecRules.problem(dp("p", "n", List.of("uring:///dev/sdb")))).isEmpty();
        assertThat(SpecRules.problem(dp("p", "n", List.of("malloc:///m?size_mb=64")))).isEmpty();
        assertThat(SpecRules.problem(dp("p", null, null))).get().asString().startsWith("spec:");
        assertThat(SpecRules.problem(dp("p", " ", List.of("uring:///dev/sdb")))).get().asString().startsWith("spec.node:");
        assertThat(SpecRules.problem(dp("p", "n", null))).get().asString().startsWith("spec.disks:");
        assertThat(SpecRules.problem(dp("p", "n", List.of()))).get().asString().startsWith("spec.disks:");
        assertThat(SpecRules.problem(dp("p", "n", List.of("uring:///a", "uring:///b")))).get().asString().startsWith("spec.disks:");
        assertThat(SpecRules.problem(dp("p", "n", Arrays.asList((String) null)))).get().asString().startsWith("spec.disks[0]:");
        assertThat(SpecRules.problem(dp("p", "n", List.of("file:///x")))).get().asString().startsWith("spec.disks[0]:");
        assertThat(SpecRules.problem(dp("x".repeat(64), "n", List.of("uring:///dev/sdb")))).get().asString().startsWith("metadata.name:");
    }

    @Test
    void anExistingPoolMustBeTheOneTheSpecDescribes() {
        DiskPoolSpec spec = new DiskPoolSpec("n1", List.of("uring:///dev/sdb"));
        assertThat(SpecRules.mismatch(spec, new RestPool("p", "n1", List.of("uring:///dev/sdb"), "Created", null))).isEmpty();
        assertThat(SpecRules.mismatch(spec, new RestPool("p", "n2", List.of("uring:///dev/sdb"), "Created", null)))
                .get().asString().startsWith("spec.node:").contains("n2");
        assertThat(SpecRules.mismatch(spec, new RestPool("p", "n1", List.of("uring:///dev/sdc"), "Created", null)))
                .get().asString().startsWith("spec.disks:").contains("uring:///dev/sdc");
    }

    @Test
    void observedStateCarriesTheBytesAndMapsUnknownStates() {
        DiskPoolStatus online = DiskPoolReconciler.observed(
                new RestPool("p", "n1", List.of("uring:///dev/sdb"), "Created", new RestPool.State("Online", 1000, 300, 500)), 3L);
        assertThat(online).isEqualTo(new DiskPoolStatus("Online", 1000L, 300L, 700L, 500L, "pool p Online on node n1", 3L));
        assertThat(DiskPoolReconciler.observed(
                new RestPool("p", "n1", List.of(), "Created", new RestPool.State("Weird", 0, 0, 0)), 1L).state()).isEqualTo("Unknown");
        assertThat(DiskPoolReconciler.observed(new RestPool("p", "n1", List.of(), "Creating", null), 1L).state()).isEqualTo("Creating");
    }
}
