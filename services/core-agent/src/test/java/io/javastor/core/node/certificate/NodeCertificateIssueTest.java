package io.javastor.core.node.certificate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import javax.security.auth.x500.X500Principal;

import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import com.google.protobuf.ByteString;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.GetNodeRequest;
import io.javastor.api.core.v1.IssueNodeCertificateRequest;
import io.javastor.api.core.v1.NodeCertificatesGrpc;
import io.javastor.api.core.v1.NodeServiceGrpc;
import io.javastor.api.core.v1.NodeStatus;
import io.javastor.api.core.v1.RegisterRequest;
import io.javastor.api.core.v1.RegistrationGrpc;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.api.tls.ClusterTls;
import io.javastor.core.leader.LeaderElection;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.core.testsupport.RunningAgent;
import io.javastor.testsupport.ClusterCertificates;
import io.javastor.testsupport.IoEngineProcess;
import io.javastor.testsupport.JavaProcess;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Node certificates issued by the agent (issue 16, the chart's io-engines): an engine holding only the shared
 * {@code *.node.javastor} certificate gets one naming the node its pod runs on, as a Kubernetes API stand-in
 * (TokenReview, pods; no API server runs here) says, and with it registers as that node only; every other ask is
 * refused, and the shared certificate can no longer register as any node. The last test runs the io-engine's own
 * {@code NodeCertificateRequest} (the chart's init container) and starts a real io-engine with what it wrote.
 */
class NodeCertificateIssueTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    @TempDir
    static Path tmp;

    private static final String NAMESPACE = "javastor";
    private static final String ENGINE_SA = "system:serviceaccount:javastor:javastor-io-engine";
    private static final String AGENT_OWN_TOKEN = "agent-serviceaccount-token";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** token → TokenReview status.user (null: not authenticated); "down" makes the stand-in answer 500. */
    private static final Map<String, String> TOKENS = Map.of(
            "pod-on-c1", user(ENGINE_SA, Map.of(NodePodReview.POD_NAME, "io-engine-c1", NodePodReview.POD_UID, "uid-c1")),
            "pod-on-c2-claims-node", user(ENGINE_SA, Map.of(NodePodReview.POD_NAME, "io-engine-c2", NodePodReview.POD_UID, "uid-c2",
                    NodePodReview.NODE_NAME, "node-c2")),
            "pod-replaced", user(ENGINE_SA, Map.of(NodePodReview.POD_NAME, "io-engine-c3", NodePodReview.POD_UID, "uid-old")),
            "pod-of-another-account", user("system:serviceaccount:javastor:javastor-csi-node",
                    Map.of(NodePodReview.POD_NAME, "csi-node-c1", NodePodReview.POD_UID, "uid-csi")),
            "not-pod-bound", user(ENGINE_SA, Map.of()),
            "pod-on-engine-node", user(ENGINE_SA, Map.of(NodePodReview.POD_NAME, "io-engine-e1", NodePodReview.POD_UID, "uid-e1")));
    /** pod → (uid, node) */
    private static final Map<String, String[]> PODS = Map.of("io-engine-c1", new String[] {"uid-c1", "node-c1"},
            "io-engine-c3", new String[] {"uid-new", "node-c3"}, "io-engine-e1", new String[] {"uid-e1", "node-ce1"});

    private static HttpServer apiServer;
    private static RunningAgent agent;
    private static final List<String> asked = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws IOException {
        apiServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        apiServer.createContext("/", NodeCertificateIssueTest::answer);
        apiServer.start();
        Path own = Files.writeString(tmp.resolve("agent-token"), AGENT_OWN_TOKEN + "\n");
        agent = RunningAgent.start(etcd.endpoint(), "node-certs", "agent-node-certs", Map.of(
                "javastor.core.node-certificates.enabled", "true",
                "javastor.core.node-certificates.ca-key-file", ClusterCertificates.shared().dir().resolve("ca.key").toString(),
                "javastor.core.node-certificates.service-account", "javastor:javastor-io-engine",
                "javastor.core.node-certificates.kubernetes.api-server", "http://127.0.0.1:" + apiServer.getAddress().getPort(),
                "javastor.core.node-certificates.kubernetes.token-file", own.toString(),
                "javastor.core.node-certificates.kubernetes.ca-file", tmp.resolve("no-ca.crt").toString()));
        await().atMost(Duration.ofSeconds(10)).until(() -> agent.bean(LeaderElection.class).isLeader());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (agent != null) {
            agent.close();
        }
        if (apiServer != null) {
            apiServer.stop(0);
        }
    }

    private static String user(String name, Map<String, String> extra) {
        StringBuilder e = new StringBuilder();
        extra.forEach((k, v) -> e.append(e.length() == 0 ? "" : ",").append('"').append(k).append("\":[\"").append(v).append("\"]"));
        return "{\"username\":\"" + name + "\",\"uid\":\"u-" + name.hashCode() + "\",\"groups\":[\"system:serviceaccounts\"],"
                + "\"extra\":{" + e + "}}";
    }

    private static void answer(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String reply;
        int status = 200;
        if (!("Bearer " + AGENT_OWN_TOKEN).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
            status = 401;
            reply = "{\"kind\":\"Status\",\"code\":401}";
        } else if (ex.getRequestMethod().equals("POST") && path.equals("/apis/authentication.k8s.io/v1/tokenreviews")) {
            JsonNode spec = JSON.readTree(ex.getRequestBody().readAllBytes()).path("spec");
            String token = spec.path("token").asString();
            asked.add("TokenReview " + token + " " + spec.path("audiences"));
            boolean forUs = spec.path("audiences").size() == 1 && spec.path("audiences").get(0).asString().equals("javastor-core-agent");
            String user = forUs ? TOKENS.get(token) : null;
            if (token.equals("down")) {
                status = 500;
                reply = "{\"kind\":\"Status\",\"code\":500}";
            } else {
                status = 201;
                reply = user == null ? "{\"kind\":\"TokenReview\",\"status\":{\"authenticated\":false}}"
                        : "{\"kind\":\"TokenReview\",\"status\":{\"authenticated\":true,\"user\":" + user + "}}";
            }
        } else if (ex.getRequestMethod().equals("GET") && path.startsWith("/api/v1/namespaces/" + NAMESPACE + "/pods/")) {
            String[] pod = PODS.get(path.substring(path.lastIndexOf('/') + 1));
            asked.add("GET " + path);
            if (pod == null) {
                status = 404;
                reply = "{\"kind\":\"Status\",\"code\":404}";
            } else {
                reply = "{\"kind\":\"Pod\",\"metadata\":{\"uid\":\"" + pod[0] + "\"},\"spec\":{\"nodeName\":\"" + pod[1] + "\"}}";
            }
        } else {
            status = 404;
            reply = "{\"kind\":\"Status\",\"code\":404}";
        }
        byte[] bytes = reply.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
        ex.close();
    }

    private static KeyPair ecKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    /** A PKCS#10 request for {@code key}, signed by {@code signer} (normally the same key). */
    private static byte[] csr(KeyPair key, KeyPair signer, String algorithm) throws Exception {
        return new JcaPKCS10CertificationRequestBuilder(new X500Principal("CN=anything, O=ignored"), key.getPublic())
                .build(new JcaContentSignerBuilder(algorithm).build(signer.getPrivate())).getEncoded();
    }

    private static IssueNodeCertificateRequest ask(String node, byte[] csr, String token) {
        return IssueNodeCertificateRequest.newBuilder().setNodeId(node).setCsr(ByteString.copyFrom(csr)).setServiceAccountToken(token).build();
    }

    private static NodeCertificatesGrpc.NodeCertificatesBlockingStub asSharedCertificate() {
        return NodeCertificatesGrpc.newBlockingStub(agent.channelAs(new ClusterPeer.AnyNode())).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    private static RegisterRequest registration(String node) {
        return RegisterRequest.newBuilder().setNodeId(node).setGrpcEndpoint("127.0.0.1:1").setNodeNqn("nqn.2019-05.io.javastor:" + node)
                .setNvmfEndpoint("127.0.0.1:2").setVersion("test").build();
    }

    private static X509Certificate parse(String pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    private static ClusterTls write(String name, KeyPair key, String certPem) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Path keyFile = dir.resolve("tls.key");
        Files.writeString(keyFile, "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(
                key.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n");
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        Path certFile = Files.writeString(dir.resolve("tls.crt"), certPem);
        return new ClusterTls(true, ClusterCertificates.shared().dir().resolve("ca.crt"), certFile, keyFile);
    }

    private static void assertRefused(Runnable call, Status.Code code, String... says) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            for (String s : says) {
                assertThat(e.getStatus().getDescription()).contains(s);
            }
        });
    }

    @Test
    void aPodGetsACertificateForItsOwnNodeAndRegistersAsThatNodeOnly() throws Exception {
        KeyPair key = ecKey();
        String pem = asSharedCertificate().issueNodeCertificate(ask("node-c1", csr(key, key, "SHA256withECDSA"), "pod-on-c1"))
                .getCertificatePem();

        X509Certificate cert = parse(pem);
        X509Certificate ca = parse(Files.readString(ClusterCertificates.shared().dir().resolve("ca.crt")));
        cert.verify(ca.getPublicKey()); // signed by the cluster CA
        assertThat(cert.getPublicKey()).isEqualTo(key.getPublic());
        assertThat(ClusterPeer.of(cert)).contains(new ClusterPeer.Node("node-c1"));
        assertThat(cert.getSubjectAlternativeNames()).hasSize(1); // nothing the request asked for (CN=anything) is taken
        assertThat(cert.getBasicConstraints()).isEqualTo(-1);
        assertThat(cert.getNotAfter().toInstant()).isAfter(java.time.Instant.now().plus(Duration.ofDays(300)));
        assertThat(asked).contains("GET /api/v1/namespaces/javastor/pods/io-engine-c1"); // no node-name claim: the pod says

        ManagedChannel own = write("c1", key, pem).channelTo("127.0.0.1:" + agent.grpcPort(), ClusterPeer.CORE_AGENT).build();
        try {
            RegistrationGrpc.newBlockingStub(own).register(registration("node-c1"));
            assertThat(NodeServiceGrpc.newBlockingStub(agent.channel()).getNode(GetNodeRequest.newBuilder().setId("node-c1").build())
                    .getStatus()).isEqualTo(NodeStatus.NODE_STATUS_ONLINE);
            assertRefused(() -> RegistrationGrpc.newBlockingStub(own).register(registration("node-c9")), Status.Code.PERMISSION_DENIED,
                    "node node-c9", "node-c1.node.javastor");
        } finally {
            own.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aTokenWithTheNodeClaimNeedsNoPodRead() throws Exception {
        KeyPair key = ecKey();
        int before = (int) asked.stream().filter(a -> a.startsWith("GET")).count();
        String pem = asSharedCertificate().issueNodeCertificate(ask("node-c2", csr(key, key, "SHA256withECDSA"), "pod-on-c2-claims-node"))
                .getCertificatePem();
        assertThat(ClusterPeer.of(parse(pem))).contains(new ClusterPeer.Node("node-c2"));
        assertThat(asked.stream().filter(a -> a.startsWith("GET")).count()).isEqualTo(before);
    }

    @Test
    void everyOtherAskIsRefusedWithItsReason() throws Exception {
        KeyPair key = ecKey();
        byte[] good = csr(key, key, "SHA256withECDSA");
        var issue = asSharedCertificate();
        // A pod asking for another node than its own (a broken-into node impersonating another).
        assertRefused(() -> issue.issueNodeCertificate(ask("node-c2", good, "pod-on-c1")), Status.Code.PERMISSION_DENIED,
                "io-engine-c1 runs on node node-c1, not node-c2");
        assertRefused(() -> issue.issueNodeCertificate(ask("node-c1", good, "a-token-kubernetes-never-issued")),
                Status.Code.PERMISSION_DENIED, "does not authenticate it for audience javastor-core-agent");
        assertRefused(() -> issue.issueNodeCertificate(ask("node-c1", good, "pod-of-another-account")), Status.Code.PERMISSION_DENIED,
                "javastor-csi-node", "only " + ENGINE_SA);
        assertRefused(() -> issue.issueNodeCertificate(ask("node-c1", good, "not-pod-bound")), Status.Code.PERMISSION_DENIED,
                "not bound to a pod");
        assertRefused(() -> issue.issueNodeCertificate(ask("node-c3", good, "pod-replaced")), Status.Code.PERMISSION_DENIED,
                "replaced");
        assertRefused(() -> issue.issueNodeCertificate(ask("node-c1", good, "")), Status.Code.INVALID_ARGUMENT, "service_account_token");
        assertRefused(() -> issue.issueNodeCertificate(ask("Node_C1", good, "pod-on-c1")), Status.Code.INVALID_ARGUMENT, "node_id");
        assertRefused(() -> issue.issueNodeCertificate(ask("node-c1", "not a request".getBytes(), "pod-on-c1")),
                Status.Code.INVALID_ARGUMENT, "csr", "PKCS#10");
        // A request whose signature is not its key's: the asker does not hold the key it wants certified.
        byte[] tampered = csr(key, ecKey(), "SHA256withECDSA");
        assertRefused(() -> issue.issueNodeCertificate(ask("node-c1", tampered, "pod-on-c1")),
                Status.Code.INVALID_ARGUMENT, "csr", "signature");
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(1024);
        KeyPair weak = rsa.generateKeyPair();
        byte[] weakCsr = csr(weak, weak, "SHA256withRSA");
        assertRefused(() -> issue.issueNodeCertificate(ask("node-c1", weakCsr, "pod-on-c1")),
                Status.Code.INVALID_ARGUMENT, "1024 bits is too weak");
        // Kubernetes not answering: UNAVAILABLE (the init container asks again), not a refusal.
        assertRefused(() -> issue.issueNodeCertificate(ask("node-c1", good, "down")), Status.Code.UNAVAILABLE, "answered 500");
    }

    @Test
    void theSharedCertificateOnlyBootstrapsAndANodeCertificateCannotAsk() throws Exception {
        assertRefused(() -> RegistrationGrpc.newBlockingStub(agent.channelAs(new ClusterPeer.AnyNode())).register(registration("node-c5")),
                Status.Code.PERMISSION_DENIED, "*.node.javastor may not call this");
        KeyPair key = ecKey();
        byte[] request = csr(key, key, "SHA256withECDSA");
        assertRefused(() -> NodeCertificatesGrpc.newBlockingStub(agent.channelAs(new ClusterPeer.Node("node-c5")))
                .issueNodeCertificate(ask("node-c5", request, "pod-on-c1")), Status.Code.PERMISSION_DENIED,
                "IssueNodeCertificate");
        assertRefused(() -> NodeCertificatesGrpc.newBlockingStub(agent.channel())
                .issueNodeCertificate(ask("node-c5", request, "pod-on-c1")), Status.Code.PERMISSION_DENIED,
                "IssueNodeCertificate");
    }

    /** The chart's init container, as a process from the io-engine's jar, then that engine with the files it wrote. */
    @Test
    void theInitContainersRequestGivesARealEngineItsIdentity() throws Exception {
        Path jar = JavaProcess.execJar(JavaProcess.IO_ENGINE_JAR);
        ClusterTls shared = ClusterCertificates.shared().of(new ClusterPeer.AnyNode());
        Path token = Files.writeString(tmp.resolve("engine-token"), "pod-on-engine-node\n");
        Path out = tmp.resolve("engine-tls");
        List<String> command = new ArrayList<>(List.of(JavaProcess.java(), "-cp", jar.toString(),
                "-Dloader.main=io.javastor.ioengine.node.NodeCertificateRequest", "org.springframework.boot.loader.launch.PropertiesLauncher",
                "--agent", "127.0.0.1:" + agent.grpcPort(), "--node", "node-ce1", "--ca-file", shared.caFile().toString(),
                "--bootstrap-cert-file", shared.certFile().toString(), "--bootstrap-key-file", shared.keyFile().toString(),
                "--token-file", token.toString(), "--out-dir", out.toString(), "--timeout", "PT30S"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        assertThat(output).contains("node node-ce1 has its certificate node-ce1.node.javastor");
        assertThat(Files.getPosixFilePermissions(out.resolve("tls.key"))).isEqualTo(PosixFilePermissions.fromString("rw-------"));

        // Asking for another node than the pod's fails with the agent's reason, and writes nothing.
        Path elsewhere = tmp.resolve("elsewhere-tls");
        List<String> wrong = new ArrayList<>(command);
        wrong.set(wrong.indexOf("node-ce1"), "node-c1");
        wrong.set(wrong.indexOf(out.toString()), elsewhere.toString());
        Process q = new ProcessBuilder(wrong).redirectErrorStream(true).start();
        String refused = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(q.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(q.exitValue()).isEqualTo(1);
        assertThat(refused).contains("PERMISSION_DENIED").contains("runs on node node-ce1, not node-c1");
        assertThat(elsewhere.resolve("tls.key")).doesNotExist();

        try (IoEngineProcess engine = IoEngineProcess.fromJar("node-ce1", "127.0.0.1:" + agent.grpcPort(), tmp,
                List.of("--javastor.tls.cert-file=" + out.resolve("tls.crt"), "--javastor.tls.key-file=" + out.resolve("tls.key")))) {
            engine.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> NodeServiceGrpc.newBlockingStub(agent.channel())
                    .listNodes(io.javastor.api.core.v1.ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                    .anyMatch(n -> n.getId().equals("node-ce1") && n.getStatus() == NodeStatus.NODE_STATUS_ONLINE));
        }
    }
}
