package io.javastor.core.node.certificate;

import java.time.Clock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import io.grpc.stub.StreamObserver;
import io.javastor.api.core.v1.IssueNodeCertificateRequest;
import io.javastor.api.core.v1.IssueNodeCertificateResponse;
import io.javastor.api.core.v1.NodeCertificatesGrpc;
import io.javastor.api.kubernetes.KubernetesApi;
import io.javastor.api.tls.ClusterTls;
import io.javastor.core.operation.CoreException;
import io.javastor.core.node.NodeRegistration;

/**
 * Issues an io-engine its own certificate ({@code node_certificates.proto}). Only the shared bootstrap certificate may
 * call it (PeerRules); the node it gets a certificate for is the one Kubernetes says its pod runs on.
 */
@Service
public class NodeCertificateApi extends NodeCertificatesGrpc.NodeCertificatesImplBase {
    private static final Logger log = LoggerFactory.getLogger(NodeCertificateApi.class);

    private final NodeCertificateProperties config;
    private final NodeCertificateSigner signer;
    private final NodePodReview review;

    public NodeCertificateApi(NodeCertificateProperties config, ClusterTls tls) {
        this.config = config;
        if (config.enabled()) {
            if (!tls.on()) {
                throw new IllegalStateException(NodeCertificateProperties.PREFIX + ".enabled=true needs mTLS (javastor.tls.*): "
                        + "node certificates are what the agent checks on every node's calls");
            }
            this.signer = new NodeCertificateSigner(tls.caFile(), config.caKeyFile(), config.validity(), Clock.systemUTC());
            this.review = new NodePodReview(new KubernetesApi(config.kubernetes().connection()), config);
        } else {
            this.signer = null;
            this.review = null;
        }
    }

    @Override
    public void issueNodeCertificate(IssueNodeCertificateRequest request, StreamObserver<IssueNodeCertificateResponse> response) {
        if (!config.enabled()) {
            throw new CoreException.FailedPrecondition("this agent issues no node certificates (" + NodeCertificateProperties.PREFIX
                    + ".enabled=false): give each io-engine its own, e.g. tools/cluster-certs issue DIR node-ID");
        }
        String nodeId = request.getNodeId();
        if (!NodeRegistration.NODE_ID.matcher(nodeId).matches()) {
            throw new CoreException.InvalidArgument("node_id", "'" + nodeId + "' is not a node id (lower-case letters, digits, "
                    + "'-', '.', at most 63 characters)");
        }
        if (request.getCsr().isEmpty()) {
            throw new CoreException.InvalidArgument("csr", "is required (a PKCS#10 request, DER)");
        }
        NodePodReview.PodOnNode caller = review.review(request.getServiceAccountToken());
        if (!caller.node().equals(nodeId)) {
            log.warn("node certificate refused: node_id={} pod={} pod_node={}", nodeId, caller.pod(), caller.node());
            throw new CoreException.PermissionDenied("node_id: the calling pod " + caller.pod() + " runs on node "
                    + caller.node() + ", not " + nodeId);
        }
        NodeCertificateSigner.Issued issued = signer.sign(nodeId, request.getCsr().toByteArray());
        log.info("node certificate issued: node_id={} pod={} serial={} not_after={}", nodeId, caller.pod(), issued.serial(), issued.notAfter());
        response.onNext(IssueNodeCertificateResponse.newBuilder().setCertificatePem(issued.pem()).build());
        response.onCompleted();
    }
}
