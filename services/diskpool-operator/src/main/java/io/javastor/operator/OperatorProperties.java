package io.javastor.operator;

import java.net.URI;
import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code javastor.operator.*}.
 *
 * @param namespace        namespace whose DiskPools are watched; empty = the client's namespace (in a pod: its own)
 * @param restUrl          base URL of the REST gateway
 * @param restTokenFile    a file holding the REST gateway bearer token (in a pod: the ServiceAccount token), read per call;
 *                         empty: no token is sent
 * @param restCaFile       the cluster CA (PEM) the REST gateway's HTTPS certificate chains to; required for https
 * @param restTimeout      deadline of every REST call
 * @param refresh          how often a pool's status (state, capacity, used) is refreshed
 * @param retry            back-off of failed steps
 * @param identity         this replica's name in the leader-election Lease and in Events; empty = $POD_NAME or the host
 *                         name. The election itself is set by Spring Cloud Kubernetes' {@code spring.cloud.kubernetes.leader.election.*}.
 */
@ConfigurationProperties("javastor.operator")
public record OperatorProperties(
        @DefaultValue("") String namespace,
        @DefaultValue("https://127.0.0.1:8081") URI restUrl,
        @DefaultValue("") String restTokenFile,
        @DefaultValue("") String restCaFile,
        @DefaultValue("10s") Duration restTimeout,
        @DefaultValue("30s") Duration refresh,
        @DefaultValue Retry retry,
        @DefaultValue("") String identity) {

    public record Retry(@DefaultValue("2s") Duration initialDelay, @DefaultValue("5m") Duration maxDelay) {
    }
}
