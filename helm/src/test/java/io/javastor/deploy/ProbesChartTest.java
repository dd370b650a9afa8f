package io.javastor.deploy;

import static io.javastor.deploy.Manifests.allContainers;
import static io.javastor.deploy.Manifests.at;
import static io.javastor.deploy.Manifests.component;
import static io.javastor.deploy.Manifests.containers;
import static io.javastor.deploy.Manifests.id;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * Probes reach something that answers (issue 17: the CSI plugin's startup and readiness probes asked an Actuator port
 * the plugin never serves, so its pods would never have been Ready). Every HTTP probe names a port some container of
 * its pod declares; the CSI plugin, whose only interface is its CSI socket, is probed only through the livenessprobe
 * sidecar's /healthz, which runs the plugin's own CSI Probe.
 */
class ProbesChartTest {
    private static final List<String> PROBES = List.of("startupProbe", "livenessProbe", "readinessProbe");

    @Test
    @SuppressWarnings("unchecked")
    void everyHttpProbeNamesADeclaredPort() {
        for (String values : List.of("", "tls: {enabled: false}")) {
            Manifests m = Chart.render(values);
            m.workloads().forEach(w -> {
                Set<Object> declared = new HashSet<>();
                for (Map<String, Object> c : allContainers(w)) {
                    for (Object p : (List<Object>) c.getOrDefault("ports", List.of())) {
                        Map<String, Object> port = (Map<String, Object>) p;
                        declared.add(port.get("containerPort"));
                        if (port.get("name") != null) {
                            declared.add(port.get("name"));
                        }
                    }
                }
                for (Map<String, Object> c : containers(w)) {
                    for (String probe : PROBES) {
                        Object port = at(c, probe, "httpGet", "port");
                        if (port != null) {
                            assertThat(declared).as(id(w) + " " + c.get("name") + " " + probe + " port").contains(port);
                        }
                    }
                }
            });
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void theCsiPluginIsProbedThroughTheSidecarOnly() {
        Manifests m = Chart.render("");
        for (Map<String, Object> w : List.of(m.get("Deployment", component("csi-controller")), m.get("DaemonSet", component("csi-node")))) {
            Map<String, Object> plugin = containers(w).get(0);
            assertThat(plugin.get("ports").toString()).doesNotContain("name=http,");
            Map<String, Object> sidecar = containers(w).stream().filter(c -> "liveness-probe".equals(c.get("name"))).findFirst().orElseThrow();
            String healthPort = ((List<String>) sidecar.get("args")).stream().filter(a -> a.startsWith("--health-port=")).findFirst()
                    .orElseThrow().substring("--health-port=".length());
            List<String> seen = new ArrayList<>();
            for (String probe : PROBES) {
                assertThat(at(plugin, probe, "httpGet", "path")).as(id(w) + " " + probe).isEqualTo("/healthz");
                Object port = at(plugin, probe, "httpGet", "port");
                Object number = ((List<Map<String, Object>>) plugin.get("ports")).stream().filter(p -> port.equals(p.get("name")))
                        .map(p -> p.get("containerPort")).findFirst().orElse(port);
                assertThat(number.toString()).as(id(w) + " " + probe + " port").isEqualTo(healthPort);
                seen.add(probe);
            }
            assertThat(seen).hasSize(3);
        }
        // Its configuration sets no web server (it has none).
        for (String c : List.of("csi-controller", "csi-node")) {
            assertThat(DefaultValuesTest.appConfig(m, c).get(0)).doesNotContainKey("server");
        }
    }
}
