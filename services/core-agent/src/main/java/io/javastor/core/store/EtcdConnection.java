package io.javastor.core.store;

import java.util.List;

import javax.net.ssl.SSLException;

import io.etcd.jetcd.Client;
import io.grpc.netty.GrpcSslContexts;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.api.tls.ClusterTls;

/**
 * The agent's etcd client. With the cluster's mTLS on, etcd is reached over https only, with the agent's certificate,
 * and must prove itself with a certificate naming etcd.javastor (tools/cluster-certs issue DIR etcd); an http://
 * endpoint is refused then, so specs never cross the network in plaintext by a forgotten URL.
 */
public final class EtcdConnection {
    private EtcdConnection() {}

    public static Client open(List<String> endpoints, ClusterTls tls) {
        if (!tls.on()) {
            return Client.builder().endpoints(endpoints.toArray(String[]::new)).build();
        }
        for (String e : endpoints) {
            if (!e.startsWith("https://")) {
                throw new IllegalStateException("javastor.core.etcd.endpoints: " + e + " is not https://; with javastor.tls on, "
                        + "etcd is reached with mTLS only (start etcd with --cert-file, --key-file, --trusted-ca-file and "
                        + "--client-cert-auth; docs/security.md)");
            }
        }
        try {
            return Client.builder().endpoints(endpoints.toArray(String[]::new))
                    .sslContext(GrpcSslContexts.forClient().trustManager(tls.trustManagers()).keyManager(tls.keyManagers()).build())
                    .authority(ClusterPeer.ETCD.dnsName())
                    .build();
        } catch (SSLException e) {
            throw new IllegalStateException("etcd client TLS from " + tls.certFile() + ": " + e.getMessage(), e);
        }
    }
}
