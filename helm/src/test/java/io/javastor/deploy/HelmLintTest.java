package io.javastor.deploy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** helm lint --strict on the chart, and proof that lint and template do catch a broken chart. */
class HelmLintTest {

    @Test
    void chartPassesStrictLint() {
        FakeKubeApi.start();
        LintResult result = new Helm(Chart.dir()).lint().strict().call();
        assertThat(result.isFailed()).as("lint messages: %s", result.getMessages()).isFalse();
        assertThat(result.getMessages()).noneMatch(m -> m.contains("[WARNING]") || m.contains("[ERROR]"));
    }

    @Test
    void brokenCopyOfTheChartFailsLintAndTemplate(@TempDir Path tmp) throws IOException {
        Path copy = tmp.resolve("javastor");
        copyTree(Chart.dir(), copy);
        // An unterminated action: what a bad edit of a template looks like.
        Path template = copy.resolve("templates/core-agent.yaml");
        Files.writeString(template, Files.readString(template).replace("replicas: {{ $c.replicas }}", "replicas: {{ $c.replicas "));

        LintResult result = new Helm(copy).lint().strict().call();
        assertThat(result.isFailed()).isTrue();
        assertThat(String.join("\n", result.getMessages())).contains("core-agent.yaml");
        assertThatThrownBy(() -> Chart.renderRaw(copy, "")).hasMessageContaining("core-agent.yaml");
    }

    @Test
    void manifestRulesCatchAContainerWithoutReadinessProbeOrWithAWildcardRule(@TempDir Path tmp) throws IOException {
        Path copy = tmp.resolve("javastor");
        copyTree(Chart.dir(), copy);
        Path etcd = copy.resolve("templates/etcd.yaml");
        Files.writeString(etcd, Files.readString(etcd).replace("readinessProbe:", "notAProbe:"));
        Path rbac = copy.resolve("templates/csi-rbac.yaml");
        Files.writeString(rbac, Files.readString(rbac).replace("resources: [\"pods\"]", "resources: [\"*\"]"));
        Manifests broken = new Manifests(Chart.parseAll(Chart.renderRaw(copy, "")));
        assertThatThrownBy(() -> ManifestRules.assertAll(broken))
                .hasMessageContaining("StatefulSet/js-javastor-etcd container etcd readinessProbe")
                .hasMessageContaining("ClusterRole/js-javastor-csi-controller resources");
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
