package io.javastor.core;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.EvaluationResult;
import com.tngtech.archunit.library.Architectures.LayeredArchitecture;

import io.javastor.core.node.BackEdgeSample;
import io.javastor.core.volume.VolumeSpec;

/**
 * The core agent's packages are layered (issue 18): a package uses the packages in its own row and the rows below,
 * never one above, so a lower resource never reaches for a higher one's specs. Where a lower package needs an answer
 * only a higher one has (is this pool empty, does this node hold a nexus), it declares a small interface that the
 * higher one implements (e.g. {@code PoolOperations.PoolReplicas}, implemented by {@code ReplicaOperations}). The root
 * package ({@code io.javastor.core}: the wiring, the properties and the agent-wide APIs) is in no row: it uses what it
 * wires. The guard and the typed failures every operation shares are the bottom row, {@code operation}.
 */
class PackageLayersTest {

    /** Bottom up; each row lists packages directly under io.javastor.core (with their subpackages). */
    private static final List<List<String>> ROWS = List.of(
            List.of("operation"),                         // what every operation shares: its guard, its typed failures
            List.of("store"),                             // specs in etcd
            List.of("leader", "nvmeauth", "placement"),   // leader election, NVMe-oF secrets, where replicas go
            List.of("api"),                               // what every gRPC service shares: interceptors, proto conversions
            List.of("events"),                            // event and rebuild history
            List.of("node"),                              // io-engines: registration, state, certificates
            List.of("pool"),
            List.of("replica"),                           // a replica lives in a pool
            List.of("nexus"),                             // a nexus has replicas as children
            List.of("volume"),                            // a volume has replicas and a nexus as its target
            List.of("snapshot"),                          // a snapshot is of a volume
            List.of("appnode", "reconcile", "watch", "metrics")); // app nodes, and what watches over all the resources

    private static JavaClasses agent;

    @BeforeAll
    static void importAgent() {
        agent = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.javastor.core");
        assertThat(agent).as("the core agent's main classes").hasSizeGreaterThan(100);
    }

    @Test
    void noPackageUsesOneInARowAboveIt() {
        layers(false).check(agent);
    }

    @Test
    void noCyclesBetweenPackages() {
        slices().matching("io.javastor.core.(*)..").should().beFreeOfCycles().check(agent);
    }

    @Test
    void everyPackageHasItsRow() {
        Set<String> placed = new TreeSet<>();
        ROWS.forEach(placed::addAll);
        Set<String> found = new TreeSet<>();
        for (JavaClass c : agent) {
            String rest = c.getPackageName().substring("io.javastor.core".length());
            if (!rest.isEmpty()) {
                found.add(rest.substring(1).split("\\.")[0]);
            }
        }
        // A new package must be given its place here, or the layering says nothing about it.
        assertThat(found).as("packages under io.javastor.core, each in one row of ROWS").isEqualTo(placed);
    }

    @Test
    void aBackEdgeIsCaught() {
        JavaClasses sample = new ClassFileImporter().importClasses(BackEdgeSample.class, VolumeSpec.class);
        EvaluationResult result = layers(true).evaluate(sample);
        assertThat(result.hasViolation()).as("node using a volume's spec kind is a violation").isTrue();
        assertThat(result.getFailureReport().getDetails()).anyMatch(d -> d.contains(BackEdgeSample.class.getName())
                && d.contains(VolumeSpec.class.getName()));
    }

    /** The rows as ArchUnit layers; {@code sparse} lets a layer be empty (for a sample of a few classes). */
    private static LayeredArchitecture layers(boolean sparse) {
        LayeredArchitecture rule = layeredArchitecture().consideringOnlyDependenciesInLayers().withOptionalLayers(sparse);
        List<String> names = new ArrayList<>();
        for (List<String> row : ROWS) {
            String name = String.join("+", row);
            names.add(name);
            rule = rule.layer(name).definedBy(row.stream().map(p -> "io.javastor.core." + p + "..").toArray(String[]::new));
        }
        for (int i = 0; i < names.size() - 1; i++) {
            List<String> above = names.subList(i + 1, names.size());
            rule = rule.whereLayer(names.get(i)).mayOnlyBeAccessedByLayers(above.toArray(String[]::new));
        }
        return rule.whereLayer(names.get(names.size() - 1)).mayNotBeAccessedByAnyLayer();
    }
}
