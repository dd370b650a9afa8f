package io.javastor.ioengine.node;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import javax.security.auth.x500.X500Principal;

import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

import com.google.protobuf.ByteString;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.IssueNodeCertificateRequest;
import io.javastor.api.core.v1.NodeCertificatesGrpc;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.api.tls.ClusterTls;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Gets this node's own certificate from the core agent before the io-engine starts (the chart's init container):
 * makes a new key, asks with the shared bootstrap certificate and the pod's projected ServiceAccount token, and writes
 * {@code tls.key} (0600) and {@code tls.crt} into {@code --out-dir}, which the engine's {@code javastor.tls.*} name.
 * Retries while the agent or Kubernetes answers UNAVAILABLE (a non-leader agent, an API server restart), up to
 * {@code --timeout}; any refusal ends it at once with the agent's reason (the pod then restarts it with back-off).
 */
@Command(name = "node-certificate", mixinStandardHelpOptions = true,
        description = "Get this node's certificate from the core agent (Kubernetes: the io-engine's init container).")
public final class NodeCertificateRequest implements Callable<Integer> {

    @Option(names = "--agent", required = true, description = "the core agent's gRPC target, e.g. dns:///core-agent:50051")
    String agent;
    @Option(names = "--node", required = true, description = "this node's id (the Kubernetes node name)")
    String node;
    @Option(names = "--ca-file", required = true, description = "the cluster CA's certificate")
    Path caFile;
    @Option(names = "--bootstrap-cert-file", required = true, description = "the shared io-engine certificate (*.node.javastor)")
    Path bootstrapCert;
    @Option(names = "--bootstrap-key-file", required = true, description = "its key")
    Path bootstrapKey;
    @Option(names = "--token-file", required = true, description = "the pod's projected ServiceAccount token")
    Path tokenFile;
    @Option(names = "--out-dir", required = true, description = "where tls.key and tls.crt are written")
    Path outDir;
    @Option(names = "--timeout", defaultValue = "PT2M", description = "give up after this long (ISO-8601, default PT2M)")
    Duration timeout;

    public static void main(String[] args) {
        System.exit(new CommandLine(new NodeCertificateRequest()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        KeyPair key = newKey();
        byte[] csr = csr(key);
        String token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
        ClusterTls bootstrap = new ClusterTls(true, caFile, bootstrapCert, bootstrapKey).requireUsable("node-certificate");
        // Round robin: a retry after a standby agent's UNAVAILABLE goes to the next agent, one of which leads.
        ManagedChannel channel = bootstrap.channelTo(agent, ClusterPeer.CORE_AGENT).defaultLoadBalancingPolicy("round_robin").build();
        try {
            String pem = ask(channel, IssueNodeCertificateRequest.newBuilder().setNodeId(node).setCsr(ByteString.copyFrom(csr))
                    .setServiceAccountToken(token).build());
            X509Certificate cert = check(pem, key);
            write(key, pem);
            System.out.println("node-certificate: node " + node + " has its certificate " + new ClusterPeer.Node(node).dnsName()
                    + " (serial " + cert.getSerialNumber().toString(16) + ", until " + cert.getNotAfter().toInstant() + ") in " + outDir);
            return 0;
        } catch (StatusRuntimeException e) {
            System.err.println("node-certificate: the core agent refused node " + node + ": " + e.getStatus().getCode() + " "
                    + e.getStatus().getDescription());
            return 1;
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private String ask(ManagedChannel channel, IssueNodeCertificateRequest request) throws InterruptedException {
        Instant deadline = Instant.now().plus(timeout);
        long backoffMs = 500;
        while (true) {
            try {
                return NodeCertificatesGrpc.newBlockingStub(channel).withDeadlineAfter(15, TimeUnit.SECONDS)
                        .issueNodeCertificate(request).getCertificatePem();
            } catch (StatusRuntimeException e) {
                Status.Code code = e.getStatus().getCode();
                boolean transient_ = code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
                if (!transient_ || Instant.now().plusMillis(backoffMs).isAfter(deadline)) {
                    throw e;
                }
                System.err.println("node-certificate: " + code + " " + e.getStatus().getDescription() + "; asking again in "
                        + backoffMs + " ms");
                Thread.sleep(backoffMs); // back-off between attempts, not synchronisation
                backoffMs = Math.min(backoffMs * 2, 8000);
            }
        }
    }

    /** The agent's answer must be a certificate for this node and our key: anything else would fail later, obscurely. */
    private X509Certificate check(String pem, KeyPair key) throws GeneralSecurityException {
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new java.io.ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
        if (!cert.getPublicKey().equals(key.getPublic())) {
            throw new GeneralSecurityException("the agent's certificate is not for the key we sent");
        }
        if (!ClusterPeer.of(cert).equals(java.util.Optional.of(new ClusterPeer.Node(node)))) {
            throw new GeneralSecurityException("the agent's certificate does not name " + new ClusterPeer.Node(node).dnsName());
        }
        return cert;
    }

    private static KeyPair newKey() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private byte[] csr(KeyPair key) throws OperatorCreationException, IOException {
        return new JcaPKCS10CertificationRequestBuilder(new X500Principal("O=javastor,CN=" + new ClusterPeer.Node(node).dnsName()),
                key.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())).getEncoded();
    }

    /** The key first and 0600 from its creation; each file appears whole (written aside, then renamed). */
    private void write(KeyPair key, String certPem) throws IOException {
        Files.createDirectories(outDir);
        StringWriter keyPem = new StringWriter();
        keyPem.write("-----BEGIN PRIVATE KEY-----\n");
        keyPem.write(Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getPrivate().getEncoded()));
        keyPem.write("\n-----END PRIVATE KEY-----\n");
        Path keyTmp = Files.createTempFile(outDir, ".tls.key", ".new", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(keyTmp, keyPem.toString(), StandardCharsets.US_ASCII);
        Files.move(keyTmp, outDir.resolve("tls.key"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Path certTmp = Files.createTempFile(outDir, ".tls.crt", ".new");
        Files.writeString(certTmp, certPem, StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(certTmp, PosixFilePermissions.fromString("rw-r--r--"));
        Files.move(certTmp, outDir.resolve("tls.crt"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
