package io.javastor.api.tls;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Lets a gRPC call through only when the caller's client certificate (verified by the TLS layer against the cluster
 * CA) names a peer the rules allow for that method; the peer is then in {@link #current()} for handlers that must
 * check more (a node acts only for itself). A call without TLS is refused: plaintext never reaches a handler.
 */
public final class PeerAuthorization implements ServerInterceptor {
    private static final Context.Key<ClusterPeer> PEER = Context.key("javastor-cluster-peer");

    private final Map<String, Set<Class<? extends ClusterPeer>>> byMethod;
    private final Map<String, Set<Class<? extends ClusterPeer>>> byService;
    private final Set<Class<? extends ClusterPeer>> otherwise;

    private PeerAuthorization(Builder b) {
        this.byMethod = Map.copyOf(b.byMethod);
        this.byService = Map.copyOf(b.byService);
        this.otherwise = b.otherwise;
    }

    /** The verified peer of the call being handled, when the server runs with mTLS. */
    public static Optional<ClusterPeer> current() {
        return Optional.ofNullable(PEER.get());
    }

    /** For a server whose TLS was turned off explicitly ({@code javastor.tls.enabled=false}): every call goes through. */
    public static ServerInterceptor off() {
        return new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
                return next.startCall(call, headers);
            }
        };
    }

    public static Builder rules() {
        return new Builder();
    }

    /** Which peers may call what: a method's rule wins over its service's, which wins over {@code otherwise}. */
    public static final class Builder {
        private final Map<String, Set<Class<? extends ClusterPeer>>> byMethod = new LinkedHashMap<>();
        private final Map<String, Set<Class<? extends ClusterPeer>>> byService = new LinkedHashMap<>();
        private Set<Class<? extends ClusterPeer>> otherwise = Set.of();

        /** {@code fullMethodName} as gRPC spells it: {@code package.Service/Method}. */
        @SafeVarargs
        public final Builder method(String fullMethodName, Class<? extends ClusterPeer>... peers) {
            byMethod.put(fullMethodName, Set.of(peers));
            return this;
        }

        @SafeVarargs
        public final Builder service(String serviceName, Class<? extends ClusterPeer>... peers) {
            byService.put(serviceName, Set.of(peers));
            return this;
        }

        /** Any peer with a certificate from the cluster CA (gRPC health, for instance). */
        public Builder anyPeer(String serviceName) {
            byService.put(serviceName, Set.of(ClusterPeer.CoreAgent.class, ClusterPeer.RestGateway.class, ClusterPeer.CsiNode.class,
                    ClusterPeer.Node.class, ClusterPeer.AnyNode.class));
            return this;
        }

        @SafeVarargs
        public final Builder otherwise(Class<? extends ClusterPeer>... peers) {
            otherwise = Set.of(peers);
            return this;
        }

        public PeerAuthorization build() {
            return new PeerAuthorization(this);
        }

        /** These rules when the server runs with mTLS; every call goes through when TLS was turned off explicitly. */
        public ServerInterceptor buildFor(ClusterTls tls) {
            return tls.on() ? build() : off();
        }
    }

    Set<Class<? extends ClusterPeer>> allowed(String fullMethodName) {
        Set<Class<? extends ClusterPeer>> m = byMethod.get(fullMethodName);
        if (m != null) {
            return m;
        }
        Set<Class<? extends ClusterPeer>> s = byService.get(io.grpc.MethodDescriptor.extractFullServiceName(fullMethodName));
        return s != null ? s : otherwise;
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        if (session == null) {
            return refuse(call, Status.UNAUTHENTICATED.withDescription(method + ": plaintext is refused; connect with TLS and "
                    + "a certificate from the cluster CA"));
        }
        Optional<ClusterPeer> peer = peerOf(session);
        if (peer.isEmpty()) {
            return refuse(call, Status.UNAUTHENTICATED.withDescription(method + ": the client certificate names no javastor "
                    + "component (expected a subjectAltName such as core-agent.javastor or NODE.node.javastor)"));
        }
        if (!allowed(method).contains(peer.get().getClass())) {
            return refuse(call, Status.PERMISSION_DENIED.withDescription(method + ": " + peer.get().dnsName()
                    + " may not call this; allowed: " + allowed(method).stream().map(Class::getSimpleName).sorted().toList()));
        }
        return Contexts.interceptCall(Context.current().withValue(PEER, peer.get()), call, headers, next);
    }

    private static Optional<ClusterPeer> peerOf(SSLSession session) {
        try {
            List<Certificate> chain = List.of(session.getPeerCertificates());
            return chain.isEmpty() || !(chain.get(0) instanceof X509Certificate leaf) ? Optional.empty() : ClusterPeer.of(leaf);
        } catch (SSLPeerUnverifiedException e) {
            return Optional.empty(); // no client certificate: refused by the caller of this method
        }
    }

    private static <Q, A> ServerCall.Listener<Q> refuse(ServerCall<Q, A> call, Status status) {
        call.close(status, new Metadata());
        return new ServerCall.Listener<>() {};
    }
}
