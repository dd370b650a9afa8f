package io.javastor.csi.node;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.api.tls.ClusterTls;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * For a host connected by hand (no CSI node plugin, as in the local cluster): asks the core agent for the host's
 * DH-HMAC-CHAP pair for a volume published to it, proving itself with a {@code csi-node} certificate as the node plugin
 * does, and prints the {@code nvme connect} options that go with it. {@code ./javastor host-secrets VOLUME NODE} runs it
 * from the CSI jar. The output is a secret: it goes to stdout only, never to a log.
 */
@Command(name = "javastor-host-secrets", mixinStandardHelpOptions = true,
        description = "Prints the nvme connect options (host NQN, host id, DH-HMAC-CHAP secrets) of a node for a volume published to it.")
public final class HostSecretsCommand implements Callable<Integer> {

    @Option(names = "--agent", required = true, description = "the core agent's gRPC address, host:port")
    String agent;

    @Option(names = "--volume", required = true, description = "the volume's uuid")
    String volume;

    @Option(names = "--node", required = true, description = "the node the volume is published to (REST frontend_node)")
    String node;

    @Option(names = "--ca-file", required = true, description = "the cluster CA")
    Path caFile;

    @Option(names = "--cert-file", required = true, description = "a csi-node certificate of the cluster CA")
    Path certFile;

    @Option(names = "--key-file", required = true, description = "its key")
    Path keyFile;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(new CommandLine(new HostSecretsCommand()).execute(args));
    }

    @Override
    public Integer call() throws InterruptedException {
        CommandLine cli = spec.commandLine();
        try {
            UUID.fromString(volume);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cli, "--volume: '" + volume + "' is not a uuid");
        }
        if (!io.javastor.api.naming.ResourceIds.isNodeId(node)) {
            throw new CommandLine.ParameterException(cli, "--node: '" + node + "' is not a node id (lower-case DNS label)");
        }
        String hostNqn = NodeService.HOST_NQN_PREFIX + node;
        ManagedChannel channel;
        try {
            channel = new ClusterTls(true, caFile, certFile, keyFile).requireUsable("javastor-host-secrets")
                    .channelTo(agent, ClusterPeer.CORE_AGENT).build();
        } catch (IllegalStateException | IllegalArgumentException e) {
            cli.getErr().println(e.getMessage());
            return 1;
        }
        try {
            Optional<HostSecrets.Pair> pair = HostSecrets.fromAgent(VolumeServiceGrpc.newBlockingStub(channel), Duration.ofSeconds(30))
                    .of(volume, hostNqn);
            StringBuilder out = new StringBuilder("--hostnqn=" + hostNqn + " --hostid=" + FabricsConnect.hostId(hostNqn));
            pair.ifPresent(p -> {
                out.append(" --dhchap-secret=").append(p.host());
                if (!p.controller().isEmpty()) {
                    out.append(" --dhchap-ctrl-secret=").append(p.controller());
                }
            });
            System.out.println(out);
            return 0;
        } catch (StatusRuntimeException e) {
            cli.getErr().println("javastor-host-secrets: " + e.getStatus().getDescription());
            return 1;
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
