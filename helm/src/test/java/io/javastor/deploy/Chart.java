package io.javastor.deploy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** The chart under test, rendered with helm (through helm-java, offline) into parsed manifests. */
final class Chart {
    static final String RELEASE = "js";
    static final String NAMESPACE = "javastor-system";
    /** Kubernetes version the chart is rendered for (Chart.yaml asks for >= 1.25). */
    static final String KUBE_VERSION = "1.31.0";

    private Chart() {
    }

    static Path dir() {
        return Path.of(System.getProperty("javastor.chart.dir", "javastor")).toAbsolutePath().normalize();
    }

    static Path repoRoot() {
        return Path.of(System.getProperty("javastor.repo.root", "..")).toAbsolutePath().normalize();
    }

    /** Renders with the default values plus the given values file content (YAML; empty = defaults). */
    static Manifests render(String valuesYaml) {
        return new Manifests(parseAll(renderRaw(dir(), valuesYaml)));
    }

    static String renderRaw(Path chartDir, String valuesYaml) {
        FakeKubeApi.start();
        TemplateCommand cmd = new Helm(chartDir).template()
                .withName(RELEASE)
                .withNamespace(NAMESPACE)
                .withKubeVersion(KUBE_VERSION);
        if (valuesYaml != null && !valuesYaml.isBlank()) {
            try {
                Path values = Files.createTempFile("javastor-values", ".yaml");
                values.toFile().deleteOnExit();
                Files.writeString(values, valuesYaml);
                cmd = cmd.withValuesFile(values);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return cmd.call();
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> parseAll(String yamlStream) {
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Object doc : yaml().loadAll(yamlStream)) {
            if (doc != null) {
                docs.add((Map<String, Object>) doc);
            }
        }
        return docs;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> parseOne(String yamlText) {
        return (Map<String, Object>) Objects.requireNonNull(yaml().load(yamlText), "empty YAML");
    }

    static Yaml yaml() {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        return new Yaml(new SafeConstructor(options));
    }
}
