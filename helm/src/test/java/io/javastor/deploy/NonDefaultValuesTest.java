package io.javastor.deploy;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.javastor.deploy.DefaultValuesTest.appConfig;
import static io.javastor.deploy.DefaultValuesTest.settings;
import static io.javastor.deploy.Manifests.at;
import static io.javastor.deploy.Manifests.component;
import static io.javastor.deploy.Manifests.container;
import static io.javastor.deploy.Manifests.list;
import static io.javastor.deploy.Manifests.map;
import static io.javastor.deploy.Manifests.podSpec;
import static io.javastor.deploy.Manifests.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** helm template with values a production install would change; the general rules hold for each. */
class NonDefaultValuesTest {

    private static final String EXTERNAL_STORES = """
            etcd:
              enabled: false
              external:
                endpoints: ["https://etcd-a.db:2379", "https://etcd-b.db:2379"]
            postgresql:
              enabled: false
              external:
                jdbcUrl: jdbc:postgresql://pg.db:5432/events
                existingSecret: pg-credentials
                usernameKey: user
                passwordKey: pass
            """;

    @Test
    void externalEtcdAndPostgres() {
        Manifests m = Chart.render(EXTERNAL_STORES);
        ManifestRules.assertAll(m);
        assertThat(m.ofKind("StatefulSet")).isEmpty();
        // No database password Secret; the REST signing key's and the cluster TLS ones remain.
        assertThat(m.ofKind("Secret").map(Manifests::name)).contains(component("rest-gateway") + "-auth")
                .noneMatch(n -> n.contains("postgres"));
        Map<String, Object> cfg = appConfig(m, "core-agent").get(0);
        assertThat(at(cfg, "javastor", "core", "etcd", "endpoints")).isEqualTo("https://etcd-a.db:2379,https://etcd-b.db:2379");
        assertThat(at(cfg, "spring", "datasource", "url")).isEqualTo("jdbc:postgresql://pg.db:5432/events");
        List<Map<String, Object>> env = list(container(m.get("Deployment", component("core-agent")), "core-agent"), "env");
        assertThat(env).filteredOn(e -> "JAVASTOR_DB_PASSWORD".equals(e.get("name"))).singleElement().satisfies(e -> {
            assertThat(str(e, "valueFrom", "secretKeyRef", "name")).isEqualTo("pg-credentials");
            assertThat(str(e, "valueFrom", "secretKeyRef", "key")).isEqualTo("pass");
        });
        assertThat(env).filteredOn(e -> "JAVASTOR_DB_USERNAME".equals(e.get("name")))
                .singleElement().satisfies(e -> assertThat(str(e, "valueFrom", "secretKeyRef", "key")).isEqualTo("user"));
    }

    @Test
    void externalStoresNeedTheirSettings() {
        assertThatThrownBy(() -> Chart.render("etcd: {enabled: false}"))
                .hasMessageContaining("etcd.external.endpoints is required");
        // With mTLS on, the agent reaches etcd over https only: a plaintext external endpoint fails the install, not the pod.
        assertThatThrownBy(() -> Chart.render("etcd: {enabled: false, external: {endpoints: ['http://etcd-a.db:2379']}}"))
                .hasMessageContaining("etcd.external.endpoints").hasMessageContaining("https://");
        assertThatThrownBy(() -> Chart.render("postgresql: {enabled: false, external: {jdbcUrl: 'jdbc:postgresql://x/y'}}"))
                .hasMessageContaining("postgresql.external.existingSecret is required");
    }

    @Test
    void withoutAnyDatabaseTheAgentUsesEmbeddedH2AndNoCredentials() {
        Manifests m = Chart.render("postgresql: {enabled: false}");
        ManifestRules.assertAll(m);
        assertThat(at(appConfig(m, "core-agent").get(0), "spring", "datasource")).isNull();
        assertThat(list(container(m.get("Deployment", component("core-agent")), "core-agent"), "env"))
                .noneMatch(e -> at(e, "valueFrom", "secretKeyRef") != null);
    }

    @Test
    void ingressServiceMonitorsReplicasRegistryAndHugepages() {
        // The shared values file (also FabricModelTest's and ChartSmokeTest's): every optional object on.
        Manifests m = Chart.render(NonDefaultValues.EVERYTHING_ON);
        ManifestRules.assertAll(m);

        assertThat(at(m.get("Deployment", component("core-agent")), "spec", "replicas")).isEqualTo(3);
        assertThat(at(m.get("Deployment", component("rest-gateway")), "spec", "replicas")).isEqualTo(4);
        assertThat(at(m.get("Deployment", component("csi-controller")), "spec", "replicas")).isEqualTo(1);
        Map<String, Object> etcd = m.get("StatefulSet", component("etcd"));
        assertThat(at(etcd, "spec", "replicas")).isEqualTo(5);
        assertThat(at(etcd, "spec", "volumeClaimTemplates")).isNull();
        assertThat(((String) at(appConfig(m, "core-agent").get(0), "javastor", "core", "etcd", "endpoints")).split(",")).hasSize(5);
        // extraConfig lands as the last YAML document (after the Kubernetes one), which Spring lets override the first.
        assertThat(appConfig(m, "core-agent")).hasSize(3);
        assertThat(at(appConfig(m, "core-agent").get(2), "logging", "level", "io.javastor")).isEqualTo("DEBUG");

        assertThat(container(m.get("Deployment", component("core-agent")), "core-agent").get("image"))
                .isEqualTo("registry.example.com/storage/javastor/core-agent:1.2.3");
        // The CSI sidecars keep their own registry.
        assertThat((String) container(m.get("Deployment", component("csi-controller")), "csi-provisioner").get("image"))
                .startsWith("registry.k8s.io/sig-storage/");

        Map<String, Object> ingress = m.get("Ingress", component("rest-gateway"));
        assertThat(at(ingress, "spec", "ingressClassName")).isEqualTo("nginx");
        Map<String, Object> rule = list(ingress, "spec", "rules").get(0);
        assertThat(rule.get("host")).isEqualTo("storage.example.com");
        Map<String, Object> backend = map(list(rule, "http", "paths").get(0), "backend", "service");
        assertThat(m.find("Service", (String) backend.get("name"))).isPresent();
        assertThat(list(m.get("Service", (String) backend.get("name")), "spec", "ports")).extracting(p -> p.get("name"))
                .contains(at(backend, "port", "name"));
        assertThat(list(ingress, "spec", "tls").get(0)).containsEntry("secretName", "storage-tls");

        Map<String, Object> engine = container(m.get("DaemonSet", component("io-engine")), "io-engine");
        assertThat(map(engine, "resources", "limits")).containsEntry("hugepages-2Mi", "2Gi").containsEntry("cpu", "4");
        assertThat(map(engine, "resources", "requests")).containsEntry("hugepages-2Mi", "2Gi");
        assertThat(list(podSpec(m.get("DaemonSet", component("io-engine"))), "volumes"))
                .anySatisfy(v -> assertThat(at(v, "emptyDir", "medium")).isEqualTo("HugePages-2Mi"));

        List<Map<String, Object>> monitors = m.ofKind("ServiceMonitor").toList();
        // core-agent, rest-gateway, io-engine and both CSI plugins (their own /metrics).
        assertThat(monitors).hasSize(5);
        for (Map<String, Object> sm : monitors) {
            assertThat(at(sm, "metadata", "labels", "release")).isEqualTo("prometheus");
            Map<String, Object> sel = map(sm, "spec", "selector", "matchLabels");
            String port = (String) at(list(sm, "spec", "endpoints").get(0), "port");
            assertThat(m.ofKind("Service").filter(s -> map(s, "metadata", "labels").entrySet().containsAll(sel.entrySet()))
                    .flatMap(s -> list(s, "spec", "ports").stream()).map(p -> p.get("name")))
                    .as("%s scrapes a Service port named %s", Manifests.name(sm), port).contains(port);
        }

        Map<String, Object> sc = m.get("StorageClass", "javastor-nvmf");
        assertThat(map(sc, "parameters")).containsEntry("repl", "2").containsEntry("thin", "true").containsEntry("ioTimeout", "30")
                .containsEntry("protocol", "nvmf");
        assertThat(at(sc, "metadata", "annotations", "storageclass.kubernetes.io/is-default-class")).isEqualTo("true");
    }

    @Test
    void operatorOffRemovesItsDeploymentAccountAndRbac() {
        Manifests m = Chart.render("operator: {enabled: false}");
        ManifestRules.assertAll(m);
        assertThat(m.docs()).map(Manifests::name).noneMatch(n -> n.contains("diskpool-operator"));
        assertThat(m.ofKind("ClusterRoleBinding").map(Manifests::name)).doesNotContain(component("api") + "-admin-diskpool-operator");
    }

    @Test
    void kubernetesTokensOffLeavesTheGatewayNoReviewRightsAndBothOffIsRefused() {
        Manifests m = Chart.render("restGateway: {auth: {kubernetes: false}}");
        ManifestRules.assertAll(m);
        // Its token still reads its settings (kubernetes-config-rbac.yaml), and can do nothing else.
        assertThat(podSpec(m.get("Deployment", component("rest-gateway"))).get("automountServiceAccountToken")).isEqualTo(true);
        assertThat(m.ofKind("ClusterRoleBinding").map(Manifests::name)).doesNotContain(component("rest-gateway") + "-reviews");
        assertThat(m.docs()).map(Manifests::name).noneMatch(n -> n.startsWith(component("api")));
        assertThatThrownBy(() -> Chart.render("restGateway: {auth: {kubernetes: false, localTokens: false}}"))
                .hasMessageContaining("restGateway.auth: kubernetes or localTokens must be on");
    }

    @Test
    void anExistingSigningKeySecretReplacesTheGeneratedOne() {
        Manifests m = Chart.render("restGateway: {auth: {existingSecret: my-rest-key}}");
        ManifestRules.assertAll(m);
        assertThat(m.ofKind("Secret").map(Manifests::name)).doesNotContain(component("rest-gateway") + "-auth");
        assertThat(list(podSpec(m.get("Deployment", component("rest-gateway"))), "volumes"))
                .anySatisfy(v -> assertThat(at(v, "secret", "secretName")).isEqualTo("my-rest-key"));
    }

    @Test
    void operatorWatchingAnotherNamespaceGetsItsRoleThere() {
        Manifests m = Chart.render("operator: {watchNamespace: storage-config}");
        ManifestRules.assertAll(m);
        assertThat(at(m.get("Role", component("diskpool-operator")), "metadata", "namespace")).isEqualTo("storage-config");
        assertThat(list(m.get("RoleBinding", component("diskpool-operator")), "subjects").get(0))
                .containsEntry("namespace", Chart.NAMESPACE).containsEntry("name", component("diskpool-operator"));
        // The Lease stays in the release namespace, where the election Role is.
        assertThat(at(m.get("Role", component("diskpool-operator") + "-leader-election"), "metadata", "namespace")).isEqualTo(Chart.NAMESPACE);
        Map<String, Object> op = map(appConfig(m, "diskpool-operator").get(0), "javastor", "operator");
        assertThat(op.get("namespace")).isEqualTo("storage-config");
        assertThat(at(appConfig(m, "diskpool-operator").get(0), "spring", "cloud", "kubernetes", "leader", "election", "lock-namespace"))
                .isEqualTo(Chart.NAMESPACE);
    }

    @Test
    void operatorSettingsReachItsConfigurationAndDeployment() {
        Manifests m = Chart.render("""
                image: {registry: registry.example.com/storage, tag: 1.2.3}
                operator:
                  replicas: 1
                  restUrl: https://javastor-api.example.com
                  refresh: 1m
                  retry: {initialDelay: 5s, maxDelay: 10m}
                  leaderElection: {enabled: false}
                  extraConfig: {logging: {level: {io.javastor: DEBUG}}}
                """);
        ManifestRules.assertAll(m);
        Map<String, Object> d = m.get("Deployment", component("diskpool-operator"));
        assertThat(at(d, "spec", "replicas")).isEqualTo(1);
        assertThat(container(d, "diskpool-operator").get("image")).isEqualTo("registry.example.com/storage/javastor/diskpool-operator:1.2.3");
        // One replica: no PodDisruptionBudget that would block every drain.
        assertThat(m.find("PodDisruptionBudget", component("diskpool-operator"))).isEmpty();
        List<Map<String, Object>> cfg = appConfig(m, "diskpool-operator");
        // The file, the Kubernetes document (Spring Cloud Kubernetes), then extraConfig, which overrides both.
        assertThat(cfg).hasSize(3);
        Map<String, Object> op = map(cfg.get(0), "javastor", "operator");
        assertThat(op).containsEntry("rest-url", "https://javastor-api.example.com").doesNotContainKey("refresh");
        assertThat(at(op, "retry", "initial-delay")).isEqualTo("5s");
        assertThat(at(op, "retry", "max-delay")).isEqualTo("10m");
        assertThat(at(cfg.get(0), "spring", "cloud", "kubernetes", "leader", "election", "enabled")).isEqualTo(false);
        assertThat(at(cfg.get(2), "logging", "level", "io.javastor")).isEqualTo("DEBUG");
        // refresh is a live setting: in the settings ConfigMap read through the API, not in the mounted file.
        assertThat(at(settings(m, "diskpool-operator"), "javastor", "operator", "refresh")).isEqualTo("1m");
    }

    @Test
    void twoOperatorReplicasWithoutElectionAreRefused() {
        assertThatThrownBy(() -> Chart.render("operator: {replicas: 2, leaderElection: {enabled: false}}"))
                .hasMessageContaining("operator.leaderElection.enabled must be true when operator.replicas > 1");
    }

    @Test
    void customKubeletDirMovesEveryKubeletPath() {
        Manifests m = Chart.render("csi: {node: {kubeletDir: /var/snap/microk8s/common/var/lib/kubelet}}");
        ManifestRules.assertAll(m);
        Map<String, Object> ds = m.get("DaemonSet", component("csi-node"));
        assertThat(list(podSpec(ds), "volumes")).map(v -> (String) at(v, "hostPath", "path")).filteredOn(p -> p != null && p.contains("kubelet"))
                .isNotEmpty().allMatch(p -> p.startsWith("/var/snap/microk8s/common/var/lib/kubelet"));
    }
}
