package io.javastor.core;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Everything the core agent reads from configuration, under {@code javastor.core}.
 *
 * @param cluster  name of the cluster; all specs live under {@code /javastor/<cluster>/} in etcd
 * @param agentId  this agent's id in the leader election (defaults to a random one per process)
 */
@ConfigurationProperties("javastor.core")
public record CoreAgentProperties(
        @DefaultValue("default") String cluster,
        String agentId,
        @DefaultValue Etcd etcd,
        @DefaultValue Leader leader,
        @DefaultValue Nodes nodes,
        @DefaultValue Reconcile reconcile,
        @DefaultValue Placement placement,
        @DefaultValue Events events,
        @DefaultValue Failover failover,
        @DefaultValue NvmeAuth nvmeAuth) {

    public CoreAgentProperties {
        if (agentId == null || agentId.isBlank()) {
            agentId = "core-agent-" + UUID.randomUUID().toString().substring(0, 8);
        }
    }

    /** @param endpoints etcd client URLs; {@code timeout} bounds every single etcd call (no retries behind it) */
    public record Etcd(@DefaultValue("https://127.0.0.1:2379") List<String> endpoints,
                       @DefaultValue("5s") Duration timeout) {}

    /**
     * @param ttl        lease TTL: a dead leader is replaced within it
     * @param leaseReads the leader answers API reads from its watch-fed copy on the strength of its lease (no other
     *                   agent can write while it lasts), without a read of etcd per call; false confirms each read's
     *                   currency with etcd (for a cluster where something other than the agents writes its specs)
     */
    public record Leader(@DefaultValue("5s") Duration ttl, @DefaultValue("true") boolean leaseReads) {}

    /**
     * @param heartbeatInterval what io-engines are told to use between Register calls
     * @param heartbeatTimeout  a node silent this long goes Offline
     * @param statePollInterval how often each Online node's pools and replicas are read
     * @param callTimeout       deadline of one io-engine gRPC call
     */
    public record Nodes(@DefaultValue("2s") Duration heartbeatInterval,
                        @DefaultValue("10s") Duration heartbeatTimeout,
                        @DefaultValue("5s") Duration statePollInterval,
                        @DefaultValue("10s") Duration callTimeout) {}

    /**
     * @param interval    period of the reconcile loop (it also runs when poked)
     * @param orphanGrace a replica on a node with no spec is destroyed once seen for this long
     * @param disabled    reconcilers left out of the loop, by name (as logs and the {@code reconciler} meter tag name
     *                    them): an operator freezes one controller while investigating what it does; a test drives one
     *                    step by step. Everything else keeps converging
     */
    public record Reconcile(@DefaultValue("2s") Duration interval,
                            @DefaultValue("60s") Duration orphanGrace,
                            @DefaultValue List<String> disabled) {}

    /** @param thinOvercommitPercent thin replicas may commit up to this percentage of a pool's capacity */
    public record Placement(@DefaultValue("300") int thinOvercommitPercent) {}

    /**
     * @param moveOnNodeOffline a volume target whose node goes Offline moves to another node (hosts follow it through
     *                          their path agent); off: it waits for its node and is re-created there
     * @param answerTimeout     a move first asks the old target's node whether it answers, with this deadline rather than
     *                          the call timeout: a frozen or cut-off node would otherwise hold every host's I/O for the
     *                          whole call timeout. Too short only costs the old node's replica a rebuild (it is left out)
     */
    public record Failover(@DefaultValue("true") boolean moveOnNodeOffline,
                           @DefaultValue("1s") Duration answerTimeout) {}

    /**
     * @param links nexus-to-replica links authenticate both ways with DH-HMAC-CHAP (NVMe in-band authentication), each
     *              link with its own secrets (see {@link io.javastor.core.nvmeauth.NvmeSecrets}); off only to talk to
     *              io-engines that predate it
     * @param hosts the hosts a volume is published to authenticate both ways to its target, each with its own secrets
     *              (their CSI node plugin asks for them); off for hosts whose kernel lacks NVMe in-band authentication
     */
    public record NvmeAuth(@DefaultValue("true") boolean links, @DefaultValue("true") boolean hosts) {}

    /** @param retention events older than this are deleted */
    public record Events(@DefaultValue("30d") Duration retention,
                         @DefaultValue("10m") Duration retentionCheckInterval) {}
}
