package io.javastor.deploy;

import static io.javastor.deploy.Manifests.component;
import static io.javastor.deploy.Manifests.list;
import static io.javastor.deploy.Manifests.str;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The chart's alerts and dashboard (issue 17): every alert has a runbook heading in docs/operations.md and links it;
 * every series an alert or a panel queries is one our code exports (a misspelt metric would never fire, silently);
 * neither is rendered unless asked for.
 */
class MonitoringChartTest {
    private static final Path ROOT = repositoryRoot();
    private static final Pattern SERIES = Pattern.compile("javastor_[a-z_]+");
    private static final String SOURCES = exportedNames();

    @Test
    @SuppressWarnings("unchecked")
    void everyAlertHasItsRunbookAndQueriesSeriesWeExport() throws IOException {
        Manifests m = Chart.render("metrics: {prometheusRule: {enabled: true, runbookBaseUrl: 'https://example.org/ops.md'}}");
        Map<String, Object> rule = m.get("PrometheusRule", component("alerts"));
        List<Map<String, Object>> rules = list(list(rule, "spec", "groups").get(0), "rules");
        String runbooks = Files.readString(ROOT.resolve("docs/operations.md"));
        Set<String> alerts = new TreeSet<>();
        for (Map<String, Object> r : rules) {
            String alert = str(r, "alert");
            alerts.add(alert);
            assertThat(runbooks).as("runbook of " + alert).contains("\n### " + alert + "\n");
            assertThat(str(r, "annotations", "runbook_url")).isEqualTo("https://example.org/ops.md#" + alert.toLowerCase());
            assertThat(str(r, "labels", "severity")).isIn("critical", "warning", "info");
            assertExported(alert, str(r, "expr"));
        }
        assertThat(alerts).contains("JavastorVolumeFaulted", "JavastorVolumeDegraded", "JavastorPoolNearlyFull", "JavastorNodeOffline",
                "JavastorRebuildStalled", "JavastorLeaderFlapping", "JavastorNoLeader");
        // The thresholds are the values'.
        Manifests custom = Chart.render("metrics: {prometheusRule: {enabled: true, poolFullRatio: 0.9, degradedFor: 30m}}");
        List<Map<String, Object>> customRules = list(list(custom.get("PrometheusRule", component("alerts")), "spec", "groups").get(0), "rules");
        assertThat(customRules).anySatisfy(r -> assertThat(str(r, "expr")).endsWith("> 0.9"));
        assertThat(customRules).anySatisfy(r -> assertThat(r).containsEntry("alert", "JavastorVolumeDegraded").containsEntry("for", "30m"));
    }

    @Test
    void theDashboardQueriesSeriesWeExport() {
        Manifests m = Chart.render("metrics: {grafanaDashboard: {enabled: true}}");
        Map<String, Object> cm = m.get("ConfigMap", component("dashboard"));
        assertThat(str(cm, "metadata", "labels", "grafana_dashboard")).isEqualTo("1");
        JsonNode dashboard = JsonMapper.builder().build().readTree(str(cm, "data", "javastor.json"));
        assertThat(dashboard.path("uid").asString()).isEqualTo("javastor-overview");
        List<String> exprs = new ArrayList<>();
        dashboard.path("panels").forEach(p -> p.path("targets").forEach(t -> exprs.add(t.path("expr").asString())));
        assertThat(exprs).hasSizeGreaterThan(8);
        exprs.forEach(e -> assertExported("dashboard", e));
    }

    @Test
    @SuppressWarnings("unchecked")
    void theCsiPluginsServeTheirMetricsOnTheDeclaredPortAndAreScraped() {
        Manifests m = Chart.render("metrics: {serviceMonitor: {enabled: true}}\ncsi: {controller: {metricsPort: 9940}, node: {metricsPort: 9941}}");
        for (var c : List.of(new String[] {"csi-controller", "Deployment", "9940"}, new String[] {"csi-node", "DaemonSet", "9941"})) {
            String name = component(c[0]);
            Map<String, Object> plugin = Manifests.container(m.get(c[1], name), c[0]);
            assertThat(list(plugin, "ports")).as(c[0] + " ports")
                    .anySatisfy(p -> assertThat(p).containsEntry("name", "metrics").containsEntry("containerPort", Integer.parseInt(c[2])));
            // The plugin reads its port from its ConfigMap's application.yaml (first document; the controller's also has
            // the Kubernetes one): the same port, opened beyond loopback.
            Map<String, Object> config = Chart.parseAll(str(m.get("ConfigMap", name), "data", "application.yaml")).get(0);
            assertThat(Manifests.at(config, "javastor", "csi", "metrics-port")).as(c[0] + " metrics-port").isEqualTo(Integer.parseInt(c[2]));
            assertThat(Manifests.at(config, "javastor", "csi", "metrics-address")).isEqualTo("0.0.0.0");
            Map<String, Object> service = m.get("Service", name);
            assertThat(list(service, "spec", "ports")).anySatisfy(p -> assertThat(p).containsEntry("name", "http").containsEntry("targetPort", "metrics"));
            Map<String, Object> endpoint = list(m.get("ServiceMonitor", name), "spec", "endpoints").get(0);
            assertThat(endpoint).containsEntry("port", "http").containsEntry("path", "/metrics");
        }
        assertThat(list(m.get("ServiceMonitor", component("core-agent")), "spec", "endpoints").get(0)).containsEntry("path", "/actuator/prometheus");
        // The series the plugin exports is one the monitoring checks know (named like the agent's: javastor_*).
        assertThat(SOURCES).contains("javastor.csi.calls");
    }

    @Test
    void nothingIsRenderedUnlessAskedFor() {
        Manifests m = Chart.render("");
        assertThat(m.ofKind("PrometheusRule")).isEmpty();
        assertThat(m.ofKind("ConfigMap").map(Manifests::name)).doesNotContain(component("dashboard"));
    }

    /** Each javastor_* series of {@code expr}, less Prometheus' suffixes, is a meter name in our Java sources. */
    private static void assertExported(String where, String expr) {
        Matcher s = SERIES.matcher(expr);
        int found = 0;
        while (s.find()) {
            found++;
            String meter = s.group().replaceFirst("_(seconds_(sum|count|max|bucket)|seconds|total)$", "");
            assertThat(SOURCES).as(where + ": " + s.group() + " (meter " + meter + ") is exported by no code of ours")
                    .containsAnyOf("\"" + meter + "\"", "\"" + meter.replace('_', '.') + "\"");
        }
        assertThat(found).as(where + " queries a javastor series: " + expr).isPositive();
    }

    private static String exportedNames() {
        StringBuilder all = new StringBuilder();
        for (String module : List.of("services/core-agent/src/main/java", "io-engine-jni/src/main/java", "services/csi/src/main/java")) {
            try (Stream<Path> files = Files.walk(ROOT.resolve(module))) {
                files.filter(f -> f.toString().endsWith(".java")).forEach(f -> {
                    try {
                        all.append(Files.readString(f));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return all.toString();
    }

    private static Path repositoryRoot() {
        for (Path d = Path.of(System.getProperty("user.dir")).toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("docs/operations.md")) && Files.isDirectory(d.resolve("io-engine-jni"))) {
                return d;
            }
        }
        throw new IllegalStateException("repository root not found above " + System.getProperty("user.dir"));
    }
}
