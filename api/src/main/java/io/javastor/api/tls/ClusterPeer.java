package io.javastor.api.tls;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/**
 * Who is at the other end of a gRPC channel, as its certificate from the cluster CA says: the DNS name in its
 * subjectAltName ({@code tools/cluster-certs} issues them). Callers check this name rather than the peer's address,
 * because an io-engine's address is whatever it registers.
 */
public sealed interface ClusterPeer {
    String DOMAIN = "javastor";

    /** The name a certificate for this peer carries, and the authority a channel to it verifies. */
    String dnsName();

    record CoreAgent() implements ClusterPeer {
        public String dnsName() {
            return "core-agent." + DOMAIN;
        }
    }

    record RestGateway() implements ClusterPeer {
        public String dnsName() {
            return "rest-gateway." + DOMAIN;
        }
    }

    /** A CSI node plugin (its path agent reports failed paths). */
    record CsiNode() implements ClusterPeer {
        public String dnsName() {
            return "csi-node." + DOMAIN;
        }
    }

    /** The etcd members the core agent keeps its specs in (a server only). */
    record Etcd() implements ClusterPeer {
        public String dnsName() {
            return "etcd." + DOMAIN;
        }
    }

    /** The io-engine of one node: may register, heartbeat and report for that node only. */
    record Node(String id) implements ClusterPeer {
        public String dnsName() {
            return id + ".node." + DOMAIN;
        }
    }

    /**
     * A certificate shared by every io-engine ({@code *.node.javastor}), for deployments that cannot issue one per
     * node; it proves "an io-engine of this cluster", not which one (docs/security.md).
     */
    record AnyNode() implements ClusterPeer {
        public String dnsName() {
            return "*.node." + DOMAIN;
        }
    }

    CoreAgent CORE_AGENT = new CoreAgent();
    RestGateway REST_GATEWAY = new RestGateway();
    CsiNode CSI_NODE = new CsiNode();
    Etcd ETCD = new Etcd();

    /** True when this peer may act for node {@code nodeId}. */
    default boolean actsFor(String nodeId) {
        if (this instanceof Node n) {
            return n.id().equals(nodeId);
        }
        return this instanceof AnyNode;
    }

    /** The peer a DNS name denotes, or empty when it names none of ours. */
    static Optional<ClusterPeer> ofDnsName(String name) {
        String suffix = ".node." + DOMAIN;
        if (name.equals(CORE_AGENT.dnsName())) {
            return Optional.of(CORE_AGENT);
        } else if (name.equals(REST_GATEWAY.dnsName())) {
            return Optional.of(REST_GATEWAY);
        } else if (name.equals(CSI_NODE.dnsName())) {
            return Optional.of(CSI_NODE);
        } else if (name.equals(ETCD.dnsName())) {
            return Optional.of(ETCD);
        } else if (name.equals("*" + suffix)) {
            return Optional.of(new AnyNode());
        } else if (name.endsWith(suffix) && name.length() > suffix.length() && !name.startsWith("*")) {
            return Optional.of(new Node(name.substring(0, name.length() - suffix.length())));
        }
        return Optional.empty();
    }

    /** The first of the certificate's DNS subjectAltNames that names a peer of ours. */
    static Optional<ClusterPeer> of(X509Certificate certificate) {
        try {
            var names = certificate.getSubjectAlternativeNames();
            if (names == null) {
                return Optional.empty();
            }
            for (List<?> entry : names) {
                // (type, value); type 2 is dNSName (RFC 5280, 4.2.1.6)
                if (entry.size() == 2 && Integer.valueOf(2).equals(entry.get(0))) {
                    Optional<ClusterPeer> peer = ofDnsName((String) entry.get(1));
                    if (peer.isPresent()) {
                        return peer;
                    }
                }
            }
            return Optional.empty();
        } catch (CertificateParsingException e) {
            return Optional.empty();
        }
    }
}
