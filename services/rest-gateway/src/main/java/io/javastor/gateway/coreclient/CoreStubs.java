package io.javastor.gateway.coreclient;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.grpc.Channel;
import io.javastor.api.core.v1.AppNodeServiceGrpc;
import io.javastor.api.core.v1.EventServiceGrpc;
import io.javastor.api.core.v1.NexusServiceGrpc;
import io.javastor.api.core.v1.NodeServiceGrpc;
import io.javastor.api.core.v1.PoolServiceGrpc;
import io.javastor.api.core.v1.ReplicaServiceGrpc;
import io.javastor.api.core.v1.SpecServiceGrpc;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.core.v1.WatchServiceGrpc;

/** The core agent's services on one channel, each stub carrying the call's deadline. */
public final class CoreStubs {
    private final Channel channel;
    private final long timeoutNanos;

    CoreStubs(Channel channel, Duration timeout) {
        this.channel = channel;
        this.timeoutNanos = timeout.toNanos();
    }

    public NodeServiceGrpc.NodeServiceBlockingStub nodes() {
        return NodeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    public PoolServiceGrpc.PoolServiceBlockingStub pools() {
        return PoolServiceGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    public ReplicaServiceGrpc.ReplicaServiceBlockingStub replicas() {
        return ReplicaServiceGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    public VolumeServiceGrpc.VolumeServiceBlockingStub volumes() {
        return VolumeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    public EventServiceGrpc.EventServiceBlockingStub events() {
        return EventServiceGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    public SpecServiceGrpc.SpecServiceBlockingStub specs() {
        return SpecServiceGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    public io.javastor.api.core.v1.SnapshotServiceGrpc.SnapshotServiceBlockingStub snapshots() {
        return io.javastor.api.core.v1.SnapshotServiceGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    public NexusServiceGrpc.NexusServiceBlockingStub nexuses() {
        return NexusServiceGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    public WatchServiceGrpc.WatchServiceBlockingStub watches() {
        return WatchServiceGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    public AppNodeServiceGrpc.AppNodeServiceBlockingStub appNodes() {
        return AppNodeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS);
    }
}
