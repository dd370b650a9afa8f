package io.javastor.kubectl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.testsupport.ClusterCertificates;
import io.javastor.testsupport.CoreAgentProcess;
import io.javastor.testsupport.JavaProcess;
import io.javastor.testsupport.RestGatewayProcess;
import io.javastor.testsupport.StorageNodes;

/**
 * The plugin in Kubernetes with nothing but a kubeconfig: it finds the chart's gateway Service, a ready pod behind it,
 * the cluster CA and the gateway's signing key through the Kubernetes API, and talks to the gateway through a
 * port-forward. The API is {@link KubernetesApiStandIn} (fabric8's mock server holding the objects the chart makes,
 * answering the port-forward's WebSocket by relaying to the real gateway); behind it is a real cluster (etcd, core
 * agent, REST gateway, one io-engine) with TLS and token authentication on. And each thing that can be missing or
 * refused gives its own error and exit code.
 */
class KubectlThroughKubernetesTest {
    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    private static final String NS = KubernetesGateway.DEFAULT_NAMESPACE;

    private static Path dir;
    private static CoreAgentProcess agent;
    private static RestGatewayProcess gateway;
    private static StorageNodes nodes;
    private static KubernetesApiStandIn kube;
    private static Path kubeconfig;
    private static String volume;

    record Run(int exit, String out, String err) {
    }

    @BeforeAll
    static void start() throws Exception {
        CoreAgentProcess.jar(); // skip early, saying why, when a jar was not built
        JavaProcess.execJar(JavaProcess.GATEWAY_JAR);
        JavaProcess.execJar(JavaProcess.IO_ENGINE_JAR);
        dir = Files.createTempDirectory("javastor-kubectl-k8s-");
        agent = new CoreAgentProcess(etcd.endpoint(), "kubectl-k8s", dir).start();
        gateway = new RestGatewayProcess(agent.address(), dir).start();
        nodes = StorageNodes.start(List.of("node-1"), agent.address(), agent.apiChannel(), dir, 64, Map.of());
        volume = UUID.randomUUID().toString();
        new RestConnection(gateway.url(), gateway.token("admin"), ClusterCertificates.shared().dir().resolve("ca.crt"))
                .put("/v0/volumes/" + volume, Map.of("size", 4 << 20, "replicas", 1, "thin", false, "policy", Map.of("self_heal", true)));

        kube = new KubernetesApiStandIn();
        kubeconfig = kube.kubeconfig(dir);
        int gatewayPort = URI.create(gateway.url()).getPort();
        try (KubernetesClient client = kube.client()) {
            // What `helm install javastor ./helm/javastor -n javastor` makes that the plugin reads (names and labels as
            // the chart's templates have them): two gateway pods, one of them not ready yet.
            installGateway(client, NS, "javastor", true);
            client.configMaps().inNamespace(NS).resource(new ConfigMapBuilder().withNewMetadata().withName("javastor-cluster-ca")
                    .withLabels(labels("javastor", "tls-ca")).endMetadata()
                    .addToData("ca.crt", Files.readString(ClusterCertificates.shared().dir().resolve("ca.crt"))).build()).create();
            client.secrets().inNamespace(NS).resource(new SecretBuilder().withNewMetadata().withName("javastor-rest-gateway-auth")
                    .withLabels(labels("javastor", "rest-gateway")).endMetadata().withType("Opaque")
                    .addToData("jwt.key", Base64.getEncoder().encodeToString(Files.readAllBytes(dir.resolve("rest-gateway-jwt.key"))))
                    .build()).create();
            kube.forward(NS, "javastor-rest-gateway-ready", gatewayPort);

            // Elsewhere: a release whose only pod is not ready, one whose port-forward RBAC refuses, one namespace RBAC refuses.
            installGateway(client, "starting", "javastor", false);
            installGateway(client, "noforward", "javastor", true);
            kube.refuseForward("noforward", "javastor-rest-gateway-ready");
        }
        kube.forbid("forbidden");
    }

    /** The gateway's Service and a ready pod (plus a not-ready one), as the chart labels them. */
    private static void installGateway(KubernetesClient client, String ns, String release, boolean ready) {
        Map<String, String> selector = Map.of("app.kubernetes.io/name", "javastor", "app.kubernetes.io/instance", release,
                "app.kubernetes.io/component", "rest-gateway");
        client.services().inNamespace(ns).resource(new ServiceBuilder().withNewMetadata().withName(release + "-rest-gateway")
                .withLabels(labels(release, "rest-gateway")).endMetadata().withNewSpec().withType("ClusterIP").withSelector(selector)
                .addNewPort().withName("http").withPort(8081).withTargetPort(new IntOrString("http")).endPort().endSpec().build()).create();
        for (boolean isReady : ready ? List.of(false, true) : List.of(false)) {
            Pod pod = new PodBuilder().withNewMetadata().withName(release + "-rest-gateway-" + (isReady ? "ready" : "starting"))
                    .withLabels(labels(release, "rest-gateway")).endMetadata()
                    .withNewSpec().addNewContainer().withName("rest-gateway").withImage("javastor/rest-gateway:0.1.0")
                    .addNewPort().withName("http").withContainerPort(8081).endPort().endContainer()
                    .addNewVolume().withName("auth").withNewSecret().withSecretName(release + "-rest-gateway-auth").endSecret().endVolume()
                    .endSpec()
                    .withNewStatus().withPhase("Running").addNewCondition().withType("Ready").withStatus(isReady ? "True" : "False").endCondition()
                    .endStatus().build();
            client.pods().inNamespace(ns).resource(pod).create();
            client.pods().inNamespace(ns).resource(pod).updateStatus();
        }
    }

    private static Map<String, String> labels(String release, String component) {
        return Map.of("app.kubernetes.io/name", "javastor", "app.kubernetes.io/instance", release, "app.kubernetes.io/component", component,
                "app.kubernetes.io/part-of", "javastor", "app.kubernetes.io/managed-by", "Helm");
    }

    @AfterAll
    static void stop() throws Exception {
        if (kube != null) {
            kube.close();
        }
        if (nodes != null) {
            nodes.close();
        }
        if (gateway != null) {
            gateway.close();
        }
        if (agent != null) {
            agent.close();
        }
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cli = KubectlJavastor.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** The plugin as its own process, with only this environment (HOME, KUBECONFIG, JAVASTOR_HOME) to go by. */
    private static Run process(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(JavaProcess.java(), "-cp", System.getProperty("java.class.path"),
                KubectlJavastor.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().keySet().removeIf(k -> k.startsWith("KUBE") || k.startsWith("JAVASTOR_"));
        pb.environment().putAll(env);
        Path out = Files.createTempFile(dir, "plugin-", ".out");
        Path err = Files.createTempFile(dir, "plugin-", ".err");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the plugin did not finish in 120 s: " + command);
        }
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    @Test
    void getVolumesWithOnlyAKubeconfig() throws Exception {
        int before = kube.relayedStreams();
        Run r = run("--kubeconfig", kubeconfig.toString(), "get", "volumes");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern(volume + "\\s+4Mi\\s+1\\s+Online");
        // Through the stand-in's port-forward (there is no other way to the gateway on this command line).
        assertThat(kube.relayedStreams()).isGreaterThan(before);

        // Writes go the same way, with the minted admin token (labelling a node takes admin).
        Run label = run("--kubeconfig", kubeconfig.toString(), "-n", NS, "label", "node", "node-1", "via=port-forward");
        assertThat(label.exit()).as(label.err()).isZero();
        Run node = run("get", "node", "node-1", "-o", "json", "--kubeconfig", kubeconfig.toString());
        assertThat(node.exit()).as(node.err()).isZero();
        assertThat(RestConnection.JSON.readTree(node.out()).path("spec").path("labels").path("via").asString()).isEqualTo("port-forward");
        assertThat(run("--kubeconfig", kubeconfig.toString(), "label", "node", "node-1", "via-").exit()).isZero();
    }

    @Test
    void kubectlFindsItThroughKubeconfigInItsEnvironment() throws Exception {
        // As `kubectl javastor get volumes` runs it: $KUBECONFIG set, no option at all, no local cluster in $JAVASTOR_HOME.
        Path emptyHome = Files.createTempDirectory(dir, "home-");
        Run r = process(Map.of("KUBECONFIG", kubeconfig.toString(), "HOME", emptyHome.toString(), "JAVASTOR_HOME", emptyHome.toString()),
                "get", "volumes", "-o", "json");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(RestConnection.JSON.readTree(r.out()).findValuesAsString("uuid")).contains(volume);

        Run none = process(Map.of("HOME", emptyHome.toString(), "JAVASTOR_HOME", emptyHome.toString()), "-n", NS, "get", "volumes");
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.err()).contains("no kubeconfig: $KUBECONFIG is not set and ~/.kube/config does not exist");
    }

    @Test
    void aTokenOrCaOnTheCommandLineIsUsedInsteadOfTheClusters() throws Exception {
        kube.forbidSecrets(true);
        try {
            // The signing key's Secret is not readable: the kubeconfig's own bearer token goes to the gateway, whose
            // TokenReview is off here (local tokens only), so the gateway refuses it, saying so.
            Run kubeToken = run("--kubeconfig", kubeconfig.toString(), "get", "volumes");
            assertThat(kubeToken.exit()).as(kubeToken.err()).isEqualTo(1);
            assertThat(kubeToken.err()).contains("Unauthorized");
            // A viewer token given on the command line is used (and suffices to read).
            Run viewer = run("--kubeconfig", kubeconfig.toString(), "--token-file", gateway.tokenFile("viewer").toString(),
                    "--ca-file", ClusterCertificates.shared().dir().resolve("ca.crt").toString(), "get", "volumes");
            assertThat(viewer.exit()).as(viewer.err()).isZero();
            assertThat(viewer.out()).contains(volume);
        } finally {
            kube.forbidSecrets(false);
        }
        // A CA that is not the gateway's: TLS fails (the cluster's CA was not silently used instead).
        Path otherCa = ClusterCertificates.newAuthority().dir().resolve("ca.crt");
        Run wrongCa = run("--kubeconfig", kubeconfig.toString(), "--ca-file", otherCa.toString(), "get", "volumes");
        assertThat(wrongCa.exit()).isEqualTo(3);
        assertThat(wrongCa.err()).contains("cannot reach the REST gateway at https://127.0.0.1:").contains("port-forward to pod javastor-rest-gateway-ready");
    }

    @Test
    void whatIsMissingOrRefusedIsNamed() throws Exception {
        Run noFile = run("--kubeconfig", dir.resolve("no-such-kubeconfig").toString(), "get", "volumes");
        assertThat(noFile.exit()).isEqualTo(2);
        assertThat(noFile.err()).contains("--kubeconfig " + dir.resolve("no-such-kubeconfig") + ": no such file");

        Run noService = run("--kubeconfig", kubeconfig.toString(), "-n", "elsewhere", "get", "volumes");
        assertThat(noService.exit()).isEqualTo(3);
        assertThat(noService.err()).contains("no REST gateway Service in namespace elsewhere").contains("is Javastor installed there?");

        Run noReadyPod = run("--kubeconfig", kubeconfig.toString(), "-n", "starting", "get", "volumes");
        assertThat(noReadyPod.exit()).isEqualTo(3);
        assertThat(noReadyPod.err()).contains("no ready pod behind Service javastor-rest-gateway in namespace starting")
                .contains("javastor-rest-gateway-starting: Running, not ready");

        Run forbidden = run("--kubeconfig", kubeconfig.toString(), "-n", "forbidden", "get", "volumes");
        assertThat(forbidden.exit()).isEqualTo(1);
        assertThat(forbidden.err()).contains("forbidden: the kubeconfig's user (user kube-user) may not list services in namespace forbidden")
                .contains("kubectl auth can-i list services -n forbidden");

        Run noForward = run("--kubeconfig", kubeconfig.toString(), "-n", "noforward", "get", "volumes");
        assertThat(noForward.exit()).as(noForward.err()).isEqualTo(3);
        assertThat(noForward.err()).contains("port-forward to pod javastor-rest-gateway-ready in namespace noforward")
                .contains("the port-forward failed: the Kubernetes API answered 403 to the port-forward's WebSocket");

        Path deadApi = dir.resolve("dead-kubeconfig");
        Files.writeString(deadApi, Files.readString(kubeconfig).replaceAll("http://127.0.0.1:\\d+", "http://127.0.0.1:1"));
        Run noApi = run("--kubeconfig", deadApi.toString(), "get", "volumes");
        assertThat(noApi.exit()).isEqualTo(3);
        assertThat(noApi.err()).contains("cannot reach the Kubernetes API at http://127.0.0.1:1");

        Run noContext = run("--kubeconfig", kubeconfig.toString(), "--context", "prod", "get", "volumes");
        assertThat(noContext.exit()).isEqualTo(2);
        assertThat(noContext.err()).contains("--context prod");

        // For the report and the README: the errors as a user sees them.
        for (Run r : List.of(noFile, noService, noReadyPod, forbidden, noForward, noApi, noContext)) {
            System.out.print("exit " + r.exit() + ": " + r.err());
        }
    }
}
