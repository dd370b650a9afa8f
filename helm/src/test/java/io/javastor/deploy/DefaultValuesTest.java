package io.javastor.deploy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static io.javastor.deploy.Manifests.at;
import static io.javastor.deploy.Manifests.component;
import static io.javastor.deploy.Manifests.container;
import static io.javastor.deploy.Manifests.containers;
import static io.javastor.deploy.Manifests.list;
import static io.javastor.deploy.Manifests.map;
import static io.javastor.deploy.Manifests.podSpec;
import static io.javastor.deploy.Manifests.str;
import static org.assertj.core.api.Assertions.assertThat;

/** helm template with the chart's default values, parsed and checked. */
class DefaultValuesTest {
    private static Manifests m;
    private static Map<String, Object> values;

    @BeforeAll
    static void render() throws IOException {
        m = Chart.render("");
        values = Chart.parseOne(Files.readString(Chart.dir().resolve("values.yaml")));
    }

    @Test
    void everyRuleHolds() {
        ManifestRules.assertAll(m);
    }

    @Test
    void rendersEveryComponent() {
        assertThat(m.ofKind("Deployment").map(Manifests::name))
                .containsExactlyInAnyOrder(component("core-agent"), component("rest-gateway"), component("csi-controller"),
                        component("diskpool-operator"));
        assertThat(m.ofKind("DaemonSet").map(Manifests::name))
                .containsExactlyInAnyOrder(component("io-engine"), component("csi-node"));
        assertThat(m.ofKind("StatefulSet").map(Manifests::name))
                .containsExactlyInAnyOrder(component("etcd"), component("postgresql"));
        assertThat(at(m.get("Deployment", component("core-agent")), "spec", "replicas")).isEqualTo(2);
        assertThat(m.ofKind("CSIDriver").map(Manifests::name)).containsExactly("io.javastor.csi");
    }

    @Test
    void imagesAreTheJavastorImagesAtTheAppVersion() throws IOException {
        String appVersion = (String) Chart.parseOne(Files.readString(Chart.dir().resolve("Chart.yaml"))).get("appVersion");
        Map<String, String> expected = Map.of(
                "core-agent", "javastor/core-agent:" + appVersion,
                "rest-gateway", "javastor/rest-gateway:" + appVersion,
                "csi-controller", "javastor/csi:" + appVersion,
                "csi-node", "javastor/csi:" + appVersion,
                "io-engine", "javastor/io-engine:" + appVersion,
                "diskpool-operator", "javastor/diskpool-operator:" + appVersion);
        expected.forEach((component, image) -> {
            Map<String, Object> w = m.workloads().filter(d -> Manifests.name(d).equals(component(component))).findFirst().orElseThrow();
            assertThat(container(w, component).get("image")).as(component).isEqualTo(image);
        });
    }

    @Test
    void csiControllerRunsTheSidecarsPinnedFromSigStorage() {
        Map<String, Object> d = m.get("Deployment", component("csi-controller"));
        assertThat(containers(d)).extracting(c -> c.get("name"))
                .contains("csi-controller", "csi-provisioner", "csi-attacher", "csi-resizer", "csi-snapshotter", "liveness-probe");
        for (String sidecar : List.of("csi-provisioner", "csi-attacher", "csi-resizer", "csi-snapshotter", "liveness-probe")) {
            Map<String, Object> c = container(d, sidecar);
            assertThat((String) c.get("image")).startsWith("registry.k8s.io/sig-storage/").matches(".*:v\\d+\\.\\d+\\.\\d+$");
            assertThat((List<String>) c.get("args")).contains("--csi-address=/csi/csi.sock");
        }
        // Two controllers: the sidecars must elect a leader.
        assertThat(at(d, "spec", "replicas")).isEqualTo(2);
        for (String sidecar : List.of("csi-provisioner", "csi-attacher", "csi-resizer", "csi-snapshotter")) {
            assertThat((List<String>) container(d, sidecar).get("args")).contains("--leader-election");
        }
    }

    @Test
    void snapshotsHaveTheirRbacAndAVolumeSnapshotClassWhereTheClusterServesTheApi() {
        Map<String, Object> role = m.get("ClusterRole", component("csi-controller"));
        assertThat(list(role, "rules")).anySatisfy(r -> {
            assertThat((List<String>) r.get("apiGroups")).containsExactly("snapshot.storage.k8s.io");
            assertThat((List<String>) r.get("resources")).containsExactly("volumesnapshotcontents");
            assertThat((List<String>) r.get("verbs")).contains("update", "patch", "watch");
        }).anySatisfy(r -> assertThat((List<String>) r.get("resources")).containsExactly("volumesnapshotcontents/status"));
        assertThat(m.ofKind("VolumeSnapshotClass")).as("no snapshot API in a plain render: nothing that would fail to install").isEmpty();
        Manifests forced = Chart.render("volumeSnapshotClass:\n  create: \"true\"\n  isDefault: true\n");
        Map<String, Object> vsc = forced.get("VolumeSnapshotClass", "javastor-snapshots");
        assertThat(vsc.get("driver")).isEqualTo("io.javastor.csi");
        assertThat(vsc.get("deletionPolicy")).isEqualTo("Delete");
        assertThat(at(vsc, "metadata", "annotations", "snapshot.storage.kubernetes.io/is-default-class")).isEqualTo("true");
    }

    @Test
    void ioEngineIsAPrivilegedHostNetworkDaemonSetOnStorageNodes() {
        Map<String, Object> ds = m.get("DaemonSet", component("io-engine"));
        Map<String, Object> pod = podSpec(ds);
        assertThat(pod.get("hostNetwork")).isEqualTo(true);
        assertThat(pod.get("dnsPolicy")).isEqualTo("ClusterFirstWithHostNet");
        assertThat(pod.get("nodeSelector")).isEqualTo(values.get("storageNodeSelector")).isEqualTo(Map.of("javastor.io/storage-node", "true"));
        Map<String, Object> c = container(ds, "io-engine");
        assertThat(at(c, "securityContext", "privileged")).isEqualTo(true);
        assertThat(list(c, "volumeMounts")).extracting(v -> v.get("mountPath")).contains("/dev", "/var/local/javastor",
                "/var/local/javastor-state/io-engine");
        assertThat(list(pod, "volumes")).anySatisfy(v -> assertThat(at(v, "hostPath", "path")).isEqualTo("/var/local/javastor-state/io-engine"));
        assertThat(list(pod, "volumes")).anySatisfy(v -> assertThat(at(v, "hostPath", "path")).isEqualTo("/dev"));
        assertThat(list(c, "ports")).extracting(p -> p.get("containerPort")).contains(10124, 8420, 9502);
        // CPU request = limit by default (Guaranteed QoS for the pollers), no hugepages unless asked.
        assertThat(at(c, "resources", "requests", "cpu")).isEqualTo(at(c, "resources", "limits", "cpu"));
        assertThat(map(c, "resources", "limits")).doesNotContainKey("hugepages-2Mi");
        assertThat(at(ds, "spec", "updateStrategy", "rollingUpdate", "maxUnavailable")).isEqualTo(1);
    }

    @Test
    void gatewayAndCsiConfigurationUseTheKeysTheServicesRead() {
        // javastor.gateway.core-agent.addresses (CoreAgentProperties): a misspelt key falls back to 127.0.0.1:50051.
        Map<String, Object> gateway = map(appConfig("rest-gateway").get(0), "javastor", "gateway");
        assertThat(gateway).containsOnlyKeys("core-agent", "auth");
        // javastor.gateway.auth (AuthProperties): both kinds of token; the key is the mounted Secret's.
        assertThat(at(gateway, "auth", "jwt-secret-file")).isEqualTo("/etc/javastor-auth/jwt.key");
        assertThat(at(gateway, "auth", "kubernetes", "enabled")).isEqualTo(true);
        assertThat((String) at(gateway, "core-agent", "addresses")).isEqualTo(
                "dns:///" + component("core-agent") + "-headless." + Chart.NAMESPACE + ".svc:50051");
        // javastor.csi.* (CsiProperties, which refuses unknown keys at start).
        for (String name : List.of("csi-controller", "csi-node")) {
            Map<String, Object> csi = map(Chart.parseAll(str(m.get("ConfigMap", component(name)), "data", "application.yaml")).get(0), "javastor", "csi");
            assertThat(csi.keySet()).as(name).isSubsetOf("mode", "endpoint", "driver-name", "node-name", "rest-url", "rest-timeout",
                    "rest-token-file", "topology", "device-timeout", "reconnect-delay-seconds", "ctrl-loss-timeout-seconds",
                    "core-agent-address", "rest-ca-file", "metrics-address", "metrics-port");
            assertThat(csi.get("driver-name")).isEqualTo("io.javastor.csi");
        }
        // The node plugin's path agent reports lost paths to the core agent (every agent; the leader answers).
        Map<String, Object> node = map(Chart.parseAll(str(m.get("ConfigMap", component("csi-node")), "data", "application.yaml")).get(0),
                "javastor", "csi");
        assertThat(node.get("core-agent-address")).isEqualTo("dns:///" + component("core-agent") + "-headless." + Chart.NAMESPACE + ".svc:50051");
    }

    @Test
    void ioEngineConfigurationPointsAtTheCoreAgentAndAdvertisesTheNodeAddress() {
        Map<String, Object> cfg = appConfig("io-engine").get(0);
        Map<String, Object> engine = map(cfg, "javastor", "io-engine");
        assertThat(engine.get("node-name")).isEqualTo("${NODE_NAME}");
        assertThat(engine.get("advertised-endpoint")).isEqualTo("${POD_IP}:10124");
        assertThat(at(engine, "nvmf", "port")).isEqualTo(8420);
        assertThat((String) engine.get("core-agent-endpoint")).isEqualTo(
                "dns:///" + component("core-agent") + "-headless." + Chart.NAMESPACE + ".svc:50051");
        // ... which is a rendered headless Service exposing that port.
        Map<String, Object> headless = m.get("Service", component("core-agent") + "-headless");
        assertThat(at(headless, "spec", "clusterIP")).isEqualTo("None");
        assertThat(list(headless, "spec", "ports")).extracting(p -> p.get("port")).contains(50051);
        assertThat(at(cfg, "spring", "grpc", "server", "host")).isEqualTo("0.0.0.0");
        // Pools only on the usual device paths and the host data folders (issue 16's allow-list); no RAM disks.
        assertThat((List<Object>) at(engine, "disk-policy", "allowed-paths")).containsExactly("/dev/disk/by-id/*", "/dev/disk/by-path/*",
                "/dev/nvme*n*", "/dev/sd*", "/dev/vd*", "/var/local/javastor/**");
        assertThat(at(engine, "disk-policy", "malloc-max-mb")).isEqualTo(0);
        // Reservations (failover fencing) are kept on the node, outside the disks pools may use.
        assertThat(engine.get("state-dir")).isEqualTo("/var/local/javastor-state/io-engine");
    }

    @Test
    void csiNodeHasTheKubeletMountsAndTheRegistrar() {
        Map<String, Object> ds = m.get("DaemonSet", component("csi-node"));
        assertThat(podSpec(ds).get("hostNetwork")).isEqualTo(true);
        Map<String, Object> plugin = container(ds, "csi-node");
        assertThat(at(plugin, "securityContext", "privileged")).isEqualTo(true);
        assertThat(list(plugin, "volumeMounts")).anySatisfy(v -> {
            assertThat(v.get("mountPath")).isEqualTo("/var/lib/kubelet");
            assertThat(v.get("mountPropagation")).isEqualTo("Bidirectional");
        });
        assertThat(list(plugin, "volumeMounts")).extracting(v -> v.get("mountPath")).contains("/dev", "/lib/modules");
        Map<String, Object> registrar = container(ds, "node-driver-registrar");
        assertThat((List<String>) registrar.get("args"))
                .contains("--kubelet-registration-path=/var/lib/kubelet/plugins/io.javastor.csi/csi.sock");
        assertThat(list(podSpec(ds), "volumes")).extracting(v -> at(v, "hostPath", "path"))
                .contains("/var/lib/kubelet/plugins/io.javastor.csi", "/var/lib/kubelet/plugins_registry", "/var/lib/kubelet");
        assertThat(Manifests.initContainers(ds)).singleElement()
                .satisfies(c -> assertThat(c.get("command").toString()).contains("modprobe").contains("nvme-tcp"));
    }

    @Test
    void storageClassAsksForThreeNvmfReplicasAndExpansion() {
        Map<String, Object> sc = m.get("StorageClass", "javastor-nvmf");
        assertThat(sc.get("provisioner")).isEqualTo("io.javastor.csi").isEqualTo(Manifests.name(m.ofKind("CSIDriver").findFirst().orElseThrow()));
        assertThat(map(sc, "parameters")).containsEntry("repl", "3").containsEntry("protocol", "nvmf")
                .containsEntry("csi.storage.k8s.io/fstype", "ext4");
        assertThat(sc.get("allowVolumeExpansion")).isEqualTo(true);
        assertThat(sc.get("reclaimPolicy")).isEqualTo("Delete");
        assertThat(at(sc, "metadata", "annotations")).isNull();
    }

    @Test
    void podDisruptionBudgetsCoverEveryReplicatedComponent() {
        assertThat(m.ofKind("PodDisruptionBudget").map(Manifests::name)).containsExactlyInAnyOrder(
                component("core-agent"), component("rest-gateway"), component("csi-controller"), component("etcd"), component("io-engine"),
                component("diskpool-operator"));
        // etcd keeps quorum: one of three members at a time.
        assertThat(at(m.get("PodDisruptionBudget", component("etcd")), "spec", "maxUnavailable")).isEqualTo(1);
    }

    @Test
    void etcdIsAThreeMemberClusterThatBootstrapsInParallel() {
        Map<String, Object> sts = m.get("StatefulSet", component("etcd"));
        assertThat(at(sts, "spec", "replicas")).isEqualTo(3);
        assertThat(at(sts, "spec", "podManagementPolicy")).isEqualTo("Parallel");
        assertThat(at(m.get("Service", component("etcd") + "-headless"), "spec", "publishNotReadyAddresses")).isEqualTo(true);
        List<String> args = (List<String>) container(sts, "etcd").get("args");
        String initialCluster = args.stream().filter(a -> a.startsWith("--initial-cluster=")).findFirst().orElseThrow();
        assertThat(initialCluster.split(",")).hasSize(3);
        // The agent's endpoint list names exactly those members.
        String endpoints = (String) at(appConfig("core-agent").get(0), "javastor", "core", "etcd", "endpoints");
        // mTLS: clients over https with the cluster CA's certificates; probes on the plaintext health/metrics port.
        assertThat(endpoints.split(",")).hasSize(3).allMatch(e -> e.startsWith("https://" + component("etcd") + "-"));
        assertThat(args).contains("--client-cert-auth", "--trusted-ca-file=/etc/javastor-tls/ca.crt", "--cert-file=/etc/javastor-tls/tls.crt",
                "--listen-metrics-urls=http://0.0.0.0:2381");
        assertThat(args).filteredOn(a -> a.startsWith("--listen-client-urls=")).singleElement().asString().startsWith("--listen-client-urls=https://");
        assertThat(at(container(sts, "etcd"), "readinessProbe", "httpGet", "port")).isEqualTo("metrics");
    }

    @Test
    void coreAgentReadsPostgresCredentialsFromTheRenderedSecret() {
        Map<String, Object> cfg = appConfig("core-agent").get(0);
        assertThat((String) at(cfg, "spring", "datasource", "url"))
                .isEqualTo("jdbc:postgresql://" + component("postgresql") + "." + Chart.NAMESPACE + ".svc:5432/javastor");
        Map<String, Object> agent = container(m.get("Deployment", component("core-agent")), "core-agent");
        Map<String, String> secretRefs = list(agent, "env").stream().filter(e -> at(e, "valueFrom", "secretKeyRef") != null)
                .collect(Collectors.toMap(e -> (String) e.get("name"), e -> str(e, "valueFrom", "secretKeyRef", "name")));
        assertThat(secretRefs).containsOnlyKeys("JAVASTOR_DB_USERNAME", "JAVASTOR_DB_PASSWORD");
        Map<String, Object> secret = m.get("Secret", component("postgresql"));
        assertThat(secretRefs.values()).containsOnly(component("postgresql"));
        assertThat(map(secret, "data")).containsKeys("username", "password");
        // Both agents stay Ready; leadership only shows on its own health group.
        assertThat(at(cfg, "management", "endpoint", "health", "group", "readiness", "include")).isEqualTo("readinessState");
    }

    @Test
    void replicaLinksAndHostsAuthenticateWithNvmeInBandAuthentication() {
        // javastor.core.nvme-auth.* (CoreAgentProperties.NvmeAuth): both on, as the agent's own defaults.
        assertThat(map(appConfig("core-agent").get(0), "javastor", "core", "nvme-auth")).containsEntry("links", true).containsEntry("hosts", true);
    }

    @Test
    void generatedPostgresPasswordIsKeptOnUpgrade() {
        FakeKubeApi api = FakeKubeApi.start();
        String fresh1 = str(Chart.render("").get("Secret", component("postgresql")), "data", "password");
        String fresh2 = str(Chart.render("").get("Secret", component("postgresql")), "data", "password");
        assertThat(fresh1).as("a first install generates a password").isNotEqualTo(fresh2);
        api.putSecret(Chart.NAMESPACE, component("postgresql"), Map.of("username", "javastor", "password", "s3cret-from-first-install"));
        try {
            String upgraded = str(Chart.render("").get("Secret", component("postgresql")), "data", "password");
            assertThat(new String(java.util.Base64.getDecoder().decode(upgraded))).isEqualTo("s3cret-from-first-install");
        } finally {
            api.clearSecrets();
        }
    }

    @Test
    void noIngressNoServiceMonitorByDefault() {
        assertThat(m.ofKind("Ingress")).isEmpty();
        assertThat(m.ofKind("ServiceMonitor")).isEmpty();
    }

    @Test
    void operatorMayTouchDiskPoolsAndTheirStatusOnly() {
        Map<String, Object> role = m.get("Role", component("diskpool-operator"));
        List<Map<String, Object>> rules = list(role, "rules");
        assertThat(rules).anySatisfy(r -> {
            assertThat((List<String>) r.get("apiGroups")).containsExactly("javastor.io");
            assertThat((List<String>) r.get("resources")).containsExactly("diskpools/status");
            assertThat((List<String>) r.get("verbs")).contains("update", "patch");
        });
        assertThat(allows(rules, "javastor.io", "diskpools", "watch")).isTrue();
        assertThat(allows(rules, "javastor.io", "diskpools", "patch")).as("finalizers").isTrue();
        assertThat(allows(rules, "", "events", "create")).isTrue();
        assertThat(rules).filteredOn(r -> ((List<String>) r.get("apiGroups")).contains("javastor.io"))
                .allSatisfy(r -> assertThat((List<String>) r.get("verbs")).as("the operator never creates or deletes DiskPools itself")
                        .doesNotContain("create", "delete"));
        // Nothing outside DiskPools, their Events and (in the election Role) Leases.
        assertThat(rules).flatExtracting(r -> (List<String>) r.get("resources"))
                .allMatch(r -> r.startsWith("diskpools") || r.equals("events"));
        List<Map<String, Object>> election = list(m.get("Role", component("diskpool-operator") + "-leader-election"), "rules");
        assertThat(election).singleElement().satisfies(r -> assertThat((List<String>) r.get("resources")).containsExactly("leases"));
        assertThat(allows(election, "coordination.k8s.io", "leases", "update")).isTrue();
        assertThat(allows(election, "coordination.k8s.io", "leases", "create")).isTrue();

        // Bound to the operator's own account, which its pods run as; the gateway's token only reviews callers.
        Map<String, Object> operator = m.get("Deployment", component("diskpool-operator"));
        assertThat(podSpec(operator).get("serviceAccountName")).isEqualTo(component("diskpool-operator"));
        for (String binding : List.of(component("diskpool-operator"), component("diskpool-operator") + "-leader-election")) {
            assertThat(list(m.get("RoleBinding", binding), "subjects")).extracting(s -> s.get("name"))
                    .containsExactly(component("diskpool-operator"));
        }
        Map<String, Object> gateway = m.get("Deployment", component("rest-gateway"));
        assertThat(podSpec(gateway).get("serviceAccountName")).isEqualTo(component("rest-gateway"));
        assertThat(podSpec(gateway).get("automountServiceAccountToken")).isEqualTo(true);
        assertThat(m.get("ServiceAccount", component("rest-gateway")).get("automountServiceAccountToken")).isEqualTo(true);
    }

    @Test
    @SuppressWarnings("unchecked")
    void restApiRolesAreRbacAndEachClientIsBoundToItsOwn() {
        // The roles, as verbs on api.javastor.io, each holding the ones below it.
        Map<String, List<String>> verbs = Map.of("viewer", List.of("viewer"), "operator", List.of("viewer", "operator"),
                "admin", List.of("viewer", "operator", "admin"));
        verbs.forEach((role, expected) -> {
            Map<String, Object> rule = ((List<Map<String, Object>>) m.get("ClusterRole", component("api") + "-" + role).get("rules")).get(0);
            assertThat(rule.get("apiGroups")).as(role).isEqualTo(List.of("javastor.io"));
            assertThat(rule.get("resources")).as(role).isEqualTo(List.of("api"));
            assertThat(rule.get("verbs")).as(role).isEqualTo(expected);
        });
        // The CSI controller is an operator, the DiskPool operator an admin, and both send their ServiceAccount token.
        Map<String, String> bindings = Map.of(component("api") + "-operator-csi-controller", component("csi-controller"),
                component("api") + "-admin-diskpool-operator", component("diskpool-operator"));
        bindings.forEach((binding, account) -> assertThat(list(m.get("ClusterRoleBinding", binding), "subjects"))
                .extracting(x -> x.get("name")).containsExactly(account));
        assertThat(at(m.get("ClusterRoleBinding", component("api") + "-operator-csi-controller"), "roleRef", "name"))
                .isEqualTo(component("api") + "-operator");
        String saToken = "/var/run/secrets/kubernetes.io/serviceaccount/token";
        assertThat(at(Chart.parseAll(str(m.get("ConfigMap", component("csi-controller")), "data", "application.yaml")).get(0),
                "javastor", "csi", "rest-token-file")).isEqualTo(saToken);
        assertThat(at(appConfig("diskpool-operator").get(0), "javastor", "operator", "rest-token-file")).isEqualTo(saToken);
        // The gateway may create reviews and nothing else.
        assertThat(list(m.get("ClusterRole", component("rest-gateway") + "-reviews"), "rules"))
                .extracting(r -> r.get("resources"), r -> r.get("verbs"))
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple(List.of("tokenreviews"), List.of("create")),
                        org.assertj.core.groups.Tuple.tuple(List.of("subjectaccessreviews"), List.of("create")));
        // The signing key: a Secret of its own, mounted read-only with mode 0400 where the configuration says.
        Map<String, Object> gateway = m.get("Deployment", component("rest-gateway"));
        assertThat(list(podSpec(gateway), "volumes")).anySatisfy(v -> {
            assertThat(at(v, "secret", "secretName")).isEqualTo(component("rest-gateway") + "-auth");
            assertThat(at(v, "secret", "defaultMode")).isEqualTo(0400);
        });
        assertThat(list(container(gateway, "rest-gateway"), "volumeMounts")).anySatisfy(v -> {
            assertThat(v.get("mountPath")).isEqualTo("/etc/javastor-auth");
            assertThat(v.get("readOnly")).isEqualTo(true);
        });
        String key = new String(java.util.Base64.getDecoder().decode(str(m.get("Secret", component("rest-gateway") + "-auth"),
                "data", "jwt.key")));
        assertThat(key).hasSizeGreaterThanOrEqualTo(32);
    }

    @Test
    void generatedSigningKeyIsKeptOnUpgrade() {
        FakeKubeApi api = FakeKubeApi.start();
        String fresh1 = str(Chart.render("").get("Secret", component("rest-gateway") + "-auth"), "data", "jwt.key");
        String fresh2 = str(Chart.render("").get("Secret", component("rest-gateway") + "-auth"), "data", "jwt.key");
        assertThat(fresh1).as("a first install generates a key").isNotEqualTo(fresh2);
        api.putSecret(Chart.NAMESPACE, component("rest-gateway") + "-auth", Map.of("jwt.key", "the-key-of-the-first-install-0123456789"));
        try {
            String upgraded = str(Chart.render("").get("Secret", component("rest-gateway") + "-auth"), "data", "jwt.key");
            assertThat(new String(java.util.Base64.getDecoder().decode(upgraded))).isEqualTo("the-key-of-the-first-install-0123456789");
        } finally {
            api.clearSecrets();
        }
    }

    @Test
    void operatorRunsTwoElectingReplicasAgainstTheGatewayService() {
        Map<String, Object> d = m.get("Deployment", component("diskpool-operator"));
        assertThat(at(d, "spec", "replicas")).isEqualTo(2);
        Map<String, Object> c = container(d, "diskpool-operator");
        assertThat(list(c, "ports")).extracting(p -> p.get("name"), p -> p.get("containerPort"))
                .containsExactly(org.assertj.core.groups.Tuple.tuple("http", 8085));
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            assertThat(at(c, probe, "httpGet", "port")).as(probe).isEqualTo("http");
            assertThat((String) at(c, probe, "httpGet", "path")).as(probe).startsWith("/actuator/health/");
        }
        // Each replica's Lease identity is its pod name.
        assertThat(list(c, "env")).anySatisfy(e -> {
            assertThat(e.get("name")).isEqualTo("POD_NAME");
            assertThat(at(e, "valueFrom", "fieldRef", "fieldPath")).isEqualTo("metadata.name");
        });
        assertThat(list(c, "volumeMounts")).extracting(v -> v.get("mountPath")).contains("/etc/javastor");

        Map<String, Object> cfg = appConfig("diskpool-operator").get(0);
        Map<String, Object> op = map(cfg, "javastor", "operator");
        assertThat(op.get("namespace")).isEqualTo(Chart.NAMESPACE);
        assertThat(op.get("identity")).isEqualTo("${POD_NAME}");
        // The election: Spring Cloud Kubernetes' leader-election properties.
        Map<String, Object> election = map(cfg, "spring", "cloud", "kubernetes", "leader", "election");
        assertThat(election.get("enabled")).isEqualTo(true);
        assertThat(election.get("lock-name")).isEqualTo(component("diskpool-operator"));
        assertThat(election.get("lock-namespace")).isEqualTo(Chart.NAMESPACE);
        assertThat(election.get("lease-duration")).isEqualTo("15s");
        assertThat(at(op, "retry", "initial-delay")).isEqualTo("2s");
        assertThat(at(cfg, "server", "address")).isEqualTo("0.0.0.0");
        // The REST URL names the gateway's rendered Service and port.
        String restUrl = (String) op.get("rest-url");
        assertThat(restUrl).isEqualTo("https://" + component("rest-gateway") + "." + Chart.NAMESPACE + ".svc:8081");
        assertThat(list(m.get("Service", component("rest-gateway")), "spec", "ports")).extracting(p -> p.get("port")).contains(8081);
        // The gateway's configuration carries no operator settings any more.
        assertThat(map(appConfig("rest-gateway").get(0), "javastor")).doesNotContainKey("operator");
    }

    @Test
    void csiControllerClusterRoleCoversWhatTheSidecarsNeed() {
        List<Map<String, Object>> rules = list(m.get("ClusterRole", component("csi-controller")), "rules");
        assertThat(allows(rules, "", "persistentvolumes", "create")).isTrue();
        assertThat(allows(rules, "", "persistentvolumes", "delete")).isTrue();
        assertThat(allows(rules, "", "persistentvolumeclaims/status", "patch")).isTrue();
        assertThat(allows(rules, "storage.k8s.io", "volumeattachments/status", "patch")).isTrue();
        assertThat(allows(rules, "storage.k8s.io", "storageclasses", "list")).isTrue();
        assertThat(allows(rules, "", "nodes", "update")).isFalse();
        assertThat(allows(rules, "", "secrets", "get")).isFalse();
        assertThat(allows(list(m.get("Role", component("csi-controller") + "-leader-election"), "rules"),
                "coordination.k8s.io", "leases", "update")).isTrue();
    }

    @SuppressWarnings("unchecked")
    static boolean allows(List<Map<String, Object>> rules, String group, String resource, String verb) {
        return rules.stream().anyMatch(r -> ((List<String>) r.get("apiGroups")).contains(group)
                && ((List<String>) r.get("resources")).contains(resource) && ((List<String>) r.get("verbs")).contains(verb));
    }

    /** The application.yaml documents of a component's ConfigMap, parsed (Spring reads multi-document YAML). */
    static List<Map<String, Object>> appConfig(Manifests manifests, String component) {
        String text = str(manifests.get("ConfigMap", component(component)), "data", "application.yaml");
        return Chart.parseAll(text);
    }

    private static List<Map<String, Object>> appConfig(String component) {
        return appConfig(m, component);
    }

    /** The application.yaml of a component's settings ConfigMap (read through the API by Spring Cloud Kubernetes). */
    static Map<String, Object> settings(Manifests manifests, String component) {
        return Chart.parseAll(str(manifests.get("ConfigMap", component(component) + "-settings"), "data", "application.yaml")).get(0);
    }

    @Test
    @SuppressWarnings("unchecked")
    void inKubernetesEachServiceReadsItsSettingsAndSecretThroughTheApiOnly() {
        for (String c : List.of("core-agent", "rest-gateway", "diskpool-operator", "csi-controller")) {
            // The Kubernetes document: active on the Kubernetes cloud platform only, importing kubernetes: sources by name.
            Map<String, Object> doc = appConfig(c).stream().filter(d -> at(d, "spring", "config", "import") != null)
                    .findFirst().orElseThrow(() -> new AssertionError(c + " has no Kubernetes document"));
            assertThat(at(doc, "spring", "config", "activate", "on-cloud-platform")).as(c).isEqualTo("kubernetes");
            assertThat(at(doc, "spring", "config", "import")).as(c).isEqualTo("kubernetes:");
            Map<String, Object> k8s = map(doc, "spring", "cloud", "kubernetes");
            assertThat(at(k8s, "client", "namespace")).as(c).isEqualTo(Chart.NAMESPACE);
            assertThat(at(k8s, "config", "read-type")).as(c).isEqualTo("SINGLE");
            assertThat(list(k8s, "config", "sources")).as(c).extracting(src -> src.get("name")).containsExactly(component(c) + "-settings");
            assertThat(list(k8s, "secrets", "sources")).as(c).extracting(src -> src.get("name")).containsExactly(component(c) + "-secrets");
            assertThat(at(k8s, "reload", "enabled")).as(c + " reload").isEqualTo(!c.equals("csi-controller"));
            assertThat(settings(m, c)).as(c).isNotNull();

            // Its own Role: ConfigMaps of the release namespace, and its one Secret, read only.
            Map<String, Object> role = m.get("Role", component(c) + "-settings");
            assertThat(at(role, "metadata", "namespace")).isEqualTo(Chart.NAMESPACE);
            List<Map<String, Object>> rules = list(role, "rules");
            assertThat(allows(rules, "", "configmaps", "watch")).as(c).isTrue();
            assertThat(allows(rules, "", "configmaps", "update")).as(c).isFalse();
            assertThat(rules).filteredOn(r -> ((List<String>) r.get("resources")).contains("secrets")).singleElement()
                    .satisfies(r -> assertThat((List<String>) r.get("resourceNames")).containsExactly(component(c) + "-secrets"));
            assertThat(list(m.get("RoleBinding", component(c) + "-settings"), "subjects")).extracting(sub -> sub.get("name"))
                    .containsExactly(component(c));
        }
        // Live settings are not in checksum/config (they apply without a restart); the CSI controller's are (no reload).
        assertThat(settings(m, "diskpool-operator")).extracting(s -> at(s, "javastor", "operator", "refresh")).isEqualTo("30s");
        Map<String, Object> csi = m.get("Deployment", component("csi-controller"));
        assertThat(map(csi, "spec", "template", "metadata", "annotations")).containsKeys("checksum/config", "checksum/settings");
        assertThat(map(m.get("Deployment", component("diskpool-operator")), "spec", "template", "metadata", "annotations"))
                .doesNotContainKey("checksum/settings");
        // The CSI node plugin (privileged, on every node) holds no API token and reads nothing from the API.
        assertThat(appConfig("csi-node")).noneMatch(d -> at(d, "spring", "config", "import") != null);
    }
}
