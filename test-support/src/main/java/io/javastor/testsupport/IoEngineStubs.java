package io.javastor.testsupport;

import io.grpc.Channel;
import io.javastor.api.ioengine.v1.NexusRpcGrpc;
import io.javastor.api.ioengine.v1.NodeRpcGrpc;
import io.javastor.api.ioengine.v1.PoolRpcGrpc;
import io.javastor.api.ioengine.v1.ReplicaRpcGrpc;
import io.javastor.api.ioengine.v1.SnapshotRpcGrpc;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** One io-engine's gRPC API as tests call it: a blocking stub per resource service, all with the same deadline. */
public record IoEngineStubs(NodeRpcGrpc.NodeRpcBlockingStub node,
                            PoolRpcGrpc.PoolRpcBlockingStub pools,
                            ReplicaRpcGrpc.ReplicaRpcBlockingStub replicas,
                            NexusRpcGrpc.NexusRpcBlockingStub nexuses,
                            SnapshotRpcGrpc.SnapshotRpcBlockingStub snapshots) {

    /** Stubs whose deadline starts now (a gRPC deadline is absolute, so take fresh stubs for each step). */
    public static IoEngineStubs on(Channel channel, Duration deadline) {
        long ms = deadline.toMillis();
        return new IoEngineStubs(
                NodeRpcGrpc.newBlockingStub(channel).withDeadlineAfter(ms, TimeUnit.MILLISECONDS),
                PoolRpcGrpc.newBlockingStub(channel).withDeadlineAfter(ms, TimeUnit.MILLISECONDS),
                ReplicaRpcGrpc.newBlockingStub(channel).withDeadlineAfter(ms, TimeUnit.MILLISECONDS),
                NexusRpcGrpc.newBlockingStub(channel).withDeadlineAfter(ms, TimeUnit.MILLISECONDS),
                SnapshotRpcGrpc.newBlockingStub(channel).withDeadlineAfter(ms, TimeUnit.MILLISECONDS));
    }
}
