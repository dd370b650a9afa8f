package io.javastor.deploy;

import static io.javastor.deploy.DefaultValuesTest.appConfig;
import static io.javastor.deploy.Manifests.at;
import static io.javastor.deploy.Manifests.component;
import static io.javastor.deploy.Manifests.list;
import static io.javastor.deploy.Manifests.map;
import static io.javastor.deploy.Manifests.podSpec;
import static io.javastor.deploy.Manifests.str;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.javastor.api.tls.ClusterPeer;
import io.javastor.api.tls.ClusterTls;

import javax.net.ssl.X509KeyManager;

/**
 * The chart's mTLS (issue 16): one CA, a certificate per component naming it as the code expects (checked with the
 * code's own ClusterPeer), keys the code can read (Helm writes RSA PKCS#1; ClusterTls reads it into the JDK's key manager), and each pod
 * mounting its own Secret only.
 */
class ClusterTlsChartTest {
    private static final Map<String, ClusterPeer> COMPONENTS = Map.of("core-agent", ClusterPeer.CORE_AGENT,
            "rest-gateway", ClusterPeer.REST_GATEWAY, "csi-node", ClusterPeer.CSI_NODE, "etcd", ClusterPeer.ETCD,
            "io-engine", new ClusterPeer.AnyNode());

    @Test
    void everyComponentHasItsOwnCertificateFromOneCa(@TempDir Path tmp) throws Exception {
        Manifests m = Chart.render("");
        X509Certificate ca = certificate(m.get("Secret", component("tls-ca")), "ca.crt");
        for (Map.Entry<String, ClusterPeer> c : COMPONENTS.entrySet()) {
            Map<String, Object> secret = m.get("Secret", component(c.getKey() + "-tls"));
            assertThat(certificate(secret, "ca.crt")).as(c.getKey() + "'s CA").isEqualTo(ca);
            X509Certificate cert = certificate(secret, "tls.crt");
            cert.verify(ca.getPublicKey()); // throws unless the CA signed it
            assertThat(ClusterPeer.of(cert)).as(c.getKey() + "'s identity").contains(c.getValue());

            Path dir = Files.createDirectories(tmp.resolve(c.getKey()));
            for (String f : List.of("ca.crt", "tls.crt", "tls.key")) {
                Files.write(dir.resolve(f), decoded(secret, f));
            }
            ClusterTls tls = new ClusterTls(true, dir.resolve("ca.crt"), dir.resolve("tls.crt"), dir.resolve("tls.key"));
            assertThat(new String(decoded(secret, "tls.key"), StandardCharsets.US_ASCII)).contains("BEGIN RSA PRIVATE KEY");
            // What the gRPC channels present: the JDK's key manager over the Secret's key and certificate.
            X509KeyManager manager = (X509KeyManager) tls.keyManagers().getKeyManagers()[0];
            String alias = manager.chooseClientAlias(new String[] {"RSA"}, null, null);
            assertThat(alias).as(c.getKey() + "'s key manager offers an RSA key").isNotNull();
            assertThat(manager.getCertificateChain(alias)[0]).isEqualTo(cert);
            assertThat(((RSAPrivateCrtKey) manager.getPrivateKey(alias)).getModulus()).as(c.getKey() + "'s key belongs to its certificate")
                    .isEqualTo(((RSAPublicKey) cert.getPublicKey()).getModulus());
        }
    }

    @Test
    void eachPodMountsItsOwnSecretAndTheJavaComponentsReadIt() {
        Manifests m = Chart.render("");
        Map<String, String> workloads = Map.of("core-agent", "Deployment", "rest-gateway", "Deployment", "io-engine", "DaemonSet",
                "csi-node", "DaemonSet", "etcd", "StatefulSet");
        workloads.forEach((c, kind) -> {
            List<Map<String, Object>> volumes = list(podSpec(m.get(kind, component(c))), "volumes");
            assertThat(volumes).filteredOn(v -> "cluster-tls".equals(v.get("name"))).singleElement()
                    .satisfies(v -> assertThat(str(v, "secret", "secretName")).isEqualTo(component(c + "-tls")));
            assertThat(volumes).noneMatch(v -> v.containsKey("secret") && str(v, "secret", "secretName").equals(component("tls-ca")));
        });
        for (String c : List.of("core-agent", "rest-gateway", "csi-node")) {
            assertThat(at(appConfig(m, c).get(0), "javastor", "tls", "cert-file")).as(c).isEqualTo("/etc/javastor-tls/tls.crt");
        }
        // The io-engine's is its node's own, got by its init container (below); the shared one only bootstraps.
        assertThat(at(appConfig(m, "io-engine").get(0), "javastor", "tls", "cert-file")).isEqualTo("/var/run/javastor-node-tls/tls.crt");
        assertThat(at(appConfig(m, "io-engine").get(0), "javastor", "tls", "ca-file")).isEqualTo("/etc/javastor-tls/ca.crt");
    }

    @Test
    @SuppressWarnings("unchecked")
    void ioEnginesTradeTheSharedCertificateForTheirNodesOwn() {
        Manifests m = Chart.render("");
        Map<String, Object> engines = m.get("DaemonSet", component("io-engine"));
        Map<String, Object> init = Manifests.initContainers(engines).stream().filter(c -> "node-certificate".equals(c.get("name")))
                .findFirst().orElseThrow();
        List<String> command = (List<String>) init.get("command");
        // The image's thin jar (docker/io-engine.Dockerfile), from the image's class archive.
        assertThat(command).containsSequence("-cp", "/opt/javastor/app.jar").contains("-XX:SharedArchiveFile=/opt/javastor/app.jsa");
        assertThat(command).contains("io.javastor.ioengine.node.NodeCertificateRequest", "--node=$(NODE_NAME)",
                "--bootstrap-cert-file=/etc/javastor-tls/tls.crt", "--token-file=/var/run/javastor-token/token",
                "--out-dir=/var/run/javastor-node-tls",
                "--agent=dns:///" + component("core-agent") + "-headless." + Chart.NAMESPACE + ".svc:50051");
        assertThat(list(init, "volumeMounts")).extracting(v -> v.get("mountPath"))
                .contains("/etc/javastor-tls", "/var/run/javastor-token", "/var/run/javastor-node-tls");
        List<Map<String, Object>> volumes = list(podSpec(engines), "volumes");
        // The token is the pod's (so its node's), for the core agent only, short-lived; the key stays in memory.
        assertThat(volumes).filteredOn(v -> "core-agent-token".equals(v.get("name"))).singleElement().satisfies(v -> {
            Map<String, Object> token = (Map<String, Object>) list(v, "projected", "sources").get(0).get("serviceAccountToken");
            assertThat(token).containsEntry("audience", "javastor-core-agent").containsEntry("path", "token");
            assertThat(((Number) token.get("expirationSeconds")).intValue()).isLessThanOrEqualTo(3600);
        });
        assertThat(volumes).filteredOn(v -> "node-tls".equals(v.get("name"))).singleElement()
                .satisfies(v -> assertThat(str(v, "emptyDir", "medium")).isEqualTo("Memory"));
        assertThat(list(Manifests.container(engines, "io-engine"), "volumeMounts")).filteredOn(v -> "node-tls".equals(v.get("name")))
                .singleElement().satisfies(v -> assertThat(v.get("readOnly")).isEqualTo(true));

        // The agent signs them: the CA key is in its own Secret (no pod mounts the CA's), and it accepts only tokens
        // of the io-engines' ServiceAccount, whose pods it may read.
        Map<String, Object> nodeCerts = (Map<String, Object>) at(appConfig(m, "core-agent").get(0), "javastor", "core", "node-certificates");
        assertThat(nodeCerts).containsEntry("enabled", true).containsEntry("ca-key-file", "/etc/javastor-tls/ca.key")
                .containsEntry("audience", "javastor-core-agent")
                .containsEntry("service-account", Chart.NAMESPACE + ":" + str(podSpec(engines), "serviceAccountName"));
        assertThat(str(m.get("Secret", component("core-agent-tls")), "data", "ca.key"))
                .isEqualTo(str(m.get("Secret", component("tls-ca")), "data", "ca.key"));
        for (String other : List.of("rest-gateway", "csi-node", "io-engine", "etcd")) {
            assertThat(map(m.get("Secret", component(other + "-tls")), "data")).as(other).doesNotContainKey("ca.key");
        }
        assertThat(podSpec(m.get("Deployment", component("core-agent")))).containsEntry("automountServiceAccountToken", true);
        assertThat(list(m.get("ClusterRole", component("core-agent") + "-token-reviews"), "rules"))
                .singleElement().satisfies(r -> assertThat(r).containsEntry("resources", List.of("tokenreviews")).containsEntry("verbs", List.of("create")));
        assertThat(list(m.get("Role", component("core-agent") + "-pods"), "rules"))
                .singleElement().satisfies(r -> assertThat(r).containsEntry("resources", List.of("pods")).containsEntry("verbs", List.of("get")));
        assertThat(list(m.get("RoleBinding", component("core-agent") + "-pods"), "subjects")).singleElement()
                .satisfies(s -> assertThat(s).containsEntry("name", component("core-agent")));
    }

    @Test
    void withoutNodeCertificatesEveryEngineUsesTheSharedOne() {
        Manifests m = Chart.render("tls: {nodeCertificates: false}");
        Map<String, Object> engines = m.get("DaemonSet", component("io-engine"));
        assertThat(Manifests.initContainers(engines)).noneMatch(c -> "node-certificate".equals(c.get("name")));
        assertThat(at(appConfig(m, "io-engine").get(0), "javastor", "tls", "cert-file")).isEqualTo("/etc/javastor-tls/tls.crt");
        assertThat(at(appConfig(m, "core-agent").get(0), "javastor", "core", "node-certificates")).isNull();
        assertThat(map(m.get("Secret", component("core-agent-tls")), "data")).doesNotContainKey("ca.key");
        // Its token now only reads its settings (kubernetes-config-rbac.yaml): no pods Role without node certificates.
        assertThat(podSpec(m.get("Deployment", component("core-agent")))).containsEntry("automountServiceAccountToken", true);
        assertThat(m.ofKind("Role").map(Manifests::name)).doesNotContain(component("core-agent") + "-pods");
    }

    @Test
    void theRestGatewayServesHttpsToClientsThatTrustTheCa() throws Exception {
        Manifests m = Chart.render("");
        String svc = component("rest-gateway");
        X509Certificate cert = certificate(m.get("Secret", component("rest-gateway-tls")), "tls.crt");
        assertThat(cert.getSubjectAlternativeNames().stream().map(e -> (String) e.get(1)))
                .contains("rest-gateway.javastor", svc + "." + Chart.NAMESPACE + ".svc", svc + "." + Chart.NAMESPACE + ".svc.cluster.local", "127.0.0.1");
        assertThat(at(Manifests.container(m.get("Deployment", svc), "rest-gateway"), "readinessProbe", "httpGet", "scheme")).isEqualTo("HTTPS");
        for (String client : List.of("csi-controller", "diskpool-operator")) {
            Map<String, Object> cfg = appConfig(m, client).get(0);
            Map<String, Object> section = Manifests.map(cfg, "javastor", client.equals("csi-controller") ? "csi" : "operator");
            assertThat((String) section.get("rest-url")).as(client).startsWith("https://" + svc + "." + Chart.NAMESPACE + ".svc:");
            assertThat(section.get("rest-ca-file")).as(client).isEqualTo("/etc/javastor-ca/ca.crt");
            assertThat(list(podSpec(m.get("Deployment", component(client))), "volumes"))
                    .anySatisfy(v -> assertThat(str(v, "configMap", "name")).isEqualTo(component("cluster-ca")));
        }
        X509Certificate ca = certificate(m.get("Secret", component("tls-ca")), "ca.crt");
        String caPem = str(m.get("ConfigMap", component("cluster-ca")), "data", "ca.crt");
        assertThat(CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(caPem.getBytes(StandardCharsets.US_ASCII))))
                .isEqualTo(ca);
    }

    @Test
    void etcdMembersTalkToEachOtherWithMutualTlsAndOnlyEtcdsCertificateJoins() throws Exception {
        Manifests m = Chart.render("etcd: {replicas: 3}");
        List<String> args = etcdArgs(m);
        assertThat(args).contains("--peer-client-cert-auth", "--peer-cert-allowed-hostname=etcd.javastor",
                "--peer-cert-file=/etc/javastor-tls/tls.crt", "--peer-key-file=/etc/javastor-tls/tls.key",
                "--peer-trusted-ca-file=/etc/javastor-tls/ca.crt");
        assertThat(args).filteredOn(a -> a.startsWith("--listen-peer-urls=")).singleElement().asString().startsWith("--listen-peer-urls=https://");
        String cluster = args.stream().filter(a -> a.startsWith("--initial-cluster=")).findFirst().orElseThrow().substring("--initial-cluster=".length());
        X509Certificate cert = certificate(m.get("Secret", component("etcd-tls")), "tls.crt");
        List<String> sans = cert.getSubjectAlternativeNames().stream().map(e -> (String) e.get(1)).toList();
        assertThat(sans).contains("etcd.javastor");
        // Every member's peer address is https and is named by the certificate (one wildcard label, as TLS matches it).
        assertThat(cluster.split(",")).hasSize(3).allSatisfy(member -> {
            java.net.URI peer = java.net.URI.create(member.substring(member.indexOf('=') + 1));
            assertThat(peer.getScheme()).isEqualTo("https");
            String host = peer.getHost();
            assertThat(sans).as(host).contains("*" + host.substring(host.indexOf('.')));
        });

        List<String> plain = etcdArgs(Chart.render("tls: {enabled: false}"));
        assertThat(plain).noneMatch(a -> a.startsWith("--peer-")).filteredOn(a -> a.startsWith("--listen-peer-urls=")).singleElement()
                .asString().startsWith("--listen-peer-urls=http://");
    }

    @Test
    void turningTlsOffSaysSoInEveryComponent() {
        Manifests m = Chart.render("tls: {enabled: false}");
        assertThat(m.ofKind("Secret").map(Manifests::name)).noneMatch(n -> n.endsWith("-tls") || n.endsWith("-tls-ca"));
        for (String c : List.of("core-agent", "rest-gateway", "io-engine", "csi-node")) {
            assertThat(at(appConfig(m, c).get(0), "javastor", "tls", "enabled")).as(c).isEqualTo(false);
        }
    }

    @SuppressWarnings("unchecked")
    private static List<String> etcdArgs(Manifests m) {
        return (List<String>) Manifests.container(m.get("StatefulSet", component("etcd")), "etcd").get("args");
    }

    private static byte[] decoded(Map<String, Object> secret, String key) {
        return Base64.getDecoder().decode(str(secret, "data", key));
    }

    private static X509Certificate certificate(Map<String, Object> secret, String key) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(decoded(secret, key)));
    }
}
