package io.javastor.e2e;

import java.util.List;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import io.grpc.ManagedChannel;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.api.tls.ClusterTls;
import io.javastor.api.ioengine.v1.ChildState;
import io.javastor.testsupport.IoEngineStubs;
import io.javastor.api.ioengine.v1.ListNexusRequest;
import io.javastor.api.ioengine.v1.Nexus;
import io.javastor.api.ioengine.v1.NexusChild;
import io.javastor.api.ioengine.v1.NexusState;
import io.javastor.api.ioengine.v1.RebuildHistoryRequest;
import io.javastor.api.ioengine.v1.RebuildState;

/**
 * The nexus's own view, from the gRPC API of the io-engine that holds it (the REST API derives a volume's state from
 * its replicas, not from the nexus): its state, its children and its rebuild history. Children are matched by the
 * replica uuid at the end of their URI (bdev:///uuid for the local one, nvmf://host:port/nqn...:uuid for remote ones).
 */
final class NexusProbe implements AutoCloseable {
    private final ManagedChannel channel;
    private final String uuid;

    /** {@code tls}: the core agent's certificate (the io-engine serves no one else); the engine must be {@code node}'s. */
    NexusProbe(ClusterTls tls, String node, int grpcPort, String uuid) {
        this.channel = tls.channelTo("127.0.0.1:" + grpcPort, new ClusterPeer.Node(node)).build();
        this.uuid = uuid;
    }

    private IoEngineStubs api() {
        return IoEngineStubs.on(channel, Duration.ofSeconds(20));
    }

    Nexus nexus() {
        List<Nexus> list = api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(uuid).build()).getNexusListList();
        if (list.size() != 1) {
            throw new AssertionError("nexus " + uuid + ": " + list.size() + " found");
        }
        return list.get(0);
    }

    private static boolean of(NexusChild c, String replica) {
        return c.getUri().endsWith(replica);
    }

    boolean degradedWithFaulted(String replica) {
        Nexus n = nexus();
        return n.getState() == NexusState.NEXUS_STATE_DEGRADED
                && n.getChildrenList().stream().anyMatch(c -> of(c, replica) && c.getState() == ChildState.CHILD_STATE_FAULTED);
    }

    /** Online, three children all Online, the replacement among them. */
    boolean onlineWith(String replica) {
        Nexus n = nexus();
        return n.getState() == NexusState.NEXUS_STATE_ONLINE && n.getChildrenCount() == 3
                && n.getChildrenList().stream().allMatch(c -> c.getState() == ChildState.CHILD_STATE_ONLINE)
                && n.getChildrenList().stream().anyMatch(c -> of(c, replica));
    }

    boolean rebuildCompleted(String replica) {
        return api().nexuses().getRebuildHistory(RebuildHistoryRequest.newBuilder().setUuid(uuid).build()).getRecordsList().stream()
                .anyMatch(r -> r.getChildUri().endsWith(replica) && r.getState() == RebuildState.REBUILD_STATE_COMPLETED);
    }

    String describe() {
        Nexus n = nexus();
        return n.getState().name().replace("NEXUS_STATE_", "") + " [" + n.getChildrenList().stream()
                .map(c -> c.getUri().replaceAll("^.*[:/]", "…") + " " + c.getState().name().replace("CHILD_STATE_", "")
                        + (c.getStateReason().isEmpty() ? "" : " (" + c.getStateReason() + ")"))
                .collect(Collectors.joining(", ")) + "]";
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
