package io.javastor.ioengine;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;
import java.util.List;

/**
 * Settings of one io-engine ({@code javastor.io-engine.*}).
 *
 * @param nodeName            this node's id, e.g. node-1
 * @param advertisedEndpoint  host:port the core agent uses to reach this engine's gRPC API (default: bind address and port)
 * @param disks               disk URIs whose pools are imported at start (pools are created through the API)
 * @param pools               dev convenience: {@code name=diskUri} pools created at start if the disk holds none (imported otherwise)
 * @param thinOvercommitRatio thin replicas may commit up to this many times a pool's capacity
 * @param coreAgentEndpoint   host:port of the core agent's gRPC API (comma-separated for several agents); empty = standalone
 * @param registrationInterval how often to register before the agent says otherwise (the heartbeat)
 * @param uring               io_uring settings
 * @param nvmf                NVMe-oF/TCP listener settings
 * @param diskPolicy          which disks pools may use
 * @param stateDir            node-local state that must outlive a restart: the NVMe reservations of the replicas,
 *                            a file each under {@code reservations/}; empty keeps them in memory only (a restart
 *                            forgets them, and namespaces do not claim Persist Through Power Loss)
 */
@ConfigurationProperties("javastor.io-engine")
public record IoEngineProperties(
        @DefaultValue("node-1") String nodeName,
        @DefaultValue("") String advertisedEndpoint,
        @DefaultValue("") List<String> disks,
        @DefaultValue("") List<String> pools,
        @DefaultValue("2.5") double thinOvercommitRatio,
        @DefaultValue("") String coreAgentEndpoint,
        @DefaultValue("5s") Duration registrationInterval,
        @DefaultValue Uring uring,
        @DefaultValue Nvmf nvmf,
        @DefaultValue DiskPolicyProperties diskPolicy,
        @DefaultValue("") String stateDir) {

    /**
     * Which disks pools may use (see {@link io.javastor.ioengine.pool.DiskPolicy}).
     *
     * @param allowedPaths path globs; the default allows nothing, so every deployment says what its disks are
     *                     (the chart: /dev/disk/by-id/* and the like; the local cluster: $JAVASTOR_HOME/**)
     * @param mallocMaxMb  largest RAM disk in MiB
     */
    public record DiskPolicyProperties(@DefaultValue("") List<String> allowedPaths, @DefaultValue("256") long mallocMaxMb) {
        public io.javastor.ioengine.pool.DiskPolicy toPolicy() {
            return new io.javastor.ioengine.pool.DiskPolicy(allowedPaths.stream().filter(p -> !p.isBlank()).toList(), mallocMaxMb);
        }
    }

    /**
     * @param port              NVMe-oF/TCP listener port (local cluster: 8420, 8421, 8422 for node-1..3)
     * @param advertisedAddress address hosts are told to use (discovery log, replica share URIs); default: the bind address
     * @param frontendAddress   address in volume targets' URIs, the one application hosts connect to, when they reach
     *                          this node on another network than the other io-engines do; default: advertisedAddress
     * @param limits            what one host may hold of the target (see {@link io.javastor.ioengine.nvmf.tgt.TargetLimits})
     */
    public record Nvmf(@DefaultValue("8420") int port, @DefaultValue("") String advertisedAddress, @DefaultValue("") String frontendAddress,
                       @DefaultValue NvmfLimits limits) {

        /** The address in replica share URIs: the advertised one, else the gRPC bind address (loopback when that is any). */
        public String shareAddress(org.springframework.core.env.Environment env) {
            if (!advertisedAddress.isBlank()) {
                return advertisedAddress;
            }
            String host = env.getProperty("spring.grpc.server.host", "127.0.0.1");
            return host.equals("*") || host.equals("0.0.0.0") ? "127.0.0.1" : host;
        }

        /** The address in volume target (nexus) URIs. */
        public String targetAddress(org.springframework.core.env.Environment env) {
            return frontendAddress.isBlank() ? shareAddress(env) : frontendAddress;
        }
    }

    /**
     * @param dataBufferMbPerController write data in waiting (R2T buffers) one controller may hold, MiB
     * @param dataBufferMbPerEngine     the same for every host together, MiB
     * @param dataTimeout               how long a write may wait for its data before it fails
     * @param controllersPerSubsystem   controllers one exported replica or volume may have at once
     */
    public record NvmfLimits(@DefaultValue("32") int dataBufferMbPerController, @DefaultValue("128") int dataBufferMbPerEngine,
                             @DefaultValue("30s") Duration dataTimeout, @DefaultValue("64") int controllersPerSubsystem) {
        public io.javastor.ioengine.nvmf.tgt.TargetLimits toLimits() {
            return new io.javastor.ioengine.nvmf.tgt.TargetLimits((long) dataBufferMbPerController << 20, (long) dataBufferMbPerEngine << 20,
                    dataTimeout, controllersPerSubsystem);
        }
    }

    /**
     * @param ringEntries  submission queue size (in-flight ops per engine)
     * @param spinMicros   hybrid polling's window: how long before and after a lone operation's measured due time the
     *                     completion poller spins, where spinning is measured to be faster than sleeping; 0 = never
     * @param sqpollIdleMs kernel submission polling thread idle time; 0 = no SQPOLL
     */
    public record Uring(@DefaultValue("256") int ringEntries, @DefaultValue("10") long spinMicros, @DefaultValue("0") int sqpollIdleMs) {
    }

    public String nodeNqn() {
        return "nqn.2019-05.io.javastor:node-name:" + nodeName;
    }
}
