package io.javastor.ioengine.nexus;

import static io.javastor.ioengine.api.GrpcReplies.call;
import io.grpc.stub.StreamObserver;
import io.javastor.api.ioengine.v1.AddChildNexusRequest;
import io.javastor.api.ioengine.v1.CreateNexusRequest;
import io.javastor.api.ioengine.v1.DestroyNexusRequest;
import io.javastor.api.ioengine.v1.DestroyNexusResponse;
import io.javastor.api.ioengine.v1.FaultNexusChildRequest;
import io.javastor.api.ioengine.v1.ListNexusRequest;
import io.javastor.api.ioengine.v1.ListNexusResponse;
import io.javastor.api.ioengine.v1.NexusRpcGrpc;
import io.javastor.api.ioengine.v1.PublishNexusRequest;
import io.javastor.api.ioengine.v1.RebuildHistoryRequest;
import io.javastor.api.ioengine.v1.RebuildHistoryResponse;
import io.javastor.api.ioengine.v1.RebuildRequest;
import io.javastor.api.ioengine.v1.RemoveChildNexusRequest;
import io.javastor.api.ioengine.v1.ShareProtocol;
import io.javastor.api.ioengine.v1.UnpublishNexusRequest;
import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.api.DhchapRequests;
import io.javastor.ioengine.pool.PoolRegistry;
import org.springframework.stereotype.Service;

import java.time.Instant;
import java.util.function.Function;

/**
 * The io-engine's {@code NexusRpc} service: nexuses on this node, their children, publishing and rebuilds. Validation,
 * calls into the {@link NexusRegistry}, mapping to messages and typed errors.
 */
@Service
public class NexusGrpcService extends NexusRpcGrpc.NexusRpcImplBase {
    private final NexusRegistry registry;

    public NexusGrpcService(NexusRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void createNexus(CreateNexusRequest req, StreamObserver<io.javastor.api.ioengine.v1.Nexus> out) {
        call(out, () -> toProto(registry.create(req.getUuid(), req.getSize(), req.getChildrenList(), req.getReservationKey(),
                DhchapRequests.keys("child_dhchap", req.getChildDhchapMap()))));
    }

    @Override
    public void destroyNexus(DestroyNexusRequest req, StreamObserver<DestroyNexusResponse> out) {
        call(out, () -> {
            registry.destroy(req.getUuid());
            return DestroyNexusResponse.getDefaultInstance();
        });
    }

    @Override
    public void listNexus(ListNexusRequest req, StreamObserver<ListNexusResponse> out) {
        call(out, () -> {
            ListNexusResponse.Builder b = ListNexusResponse.newBuilder();
            if (req.getUuid().isEmpty()) {
                registry.list().forEach(n -> b.addNexusList(toProto(n)));
            } else {
                registry.find(PoolRegistry.parseUuid(req.getUuid())).ifPresent(n -> b.addNexusList(toProto(n)));
            }
            return b.build();
        });
    }

    @Override
    public void addChildNexus(AddChildNexusRequest req, StreamObserver<io.javastor.api.ioengine.v1.Nexus> out) {
        call(out, () -> {
            Nexus n = registry.require(req.getUuid());
            n.addChild(requireUri(req.getUri()), req.hasDhchap() ? DhchapRequests.keys("dhchap", req.getDhchap()) : null);
            return toProto(n);
        });
    }

    @Override
    public void removeChildNexus(RemoveChildNexusRequest req, StreamObserver<io.javastor.api.ioengine.v1.Nexus> out) {
        call(out, () -> {
            Nexus n = registry.require(req.getUuid());
            n.removeChild(requireUri(req.getUri()));
            return toProto(n);
        });
    }

    @Override
    public void faultNexusChild(FaultNexusChildRequest req, StreamObserver<io.javastor.api.ioengine.v1.Nexus> out) {
        call(out, () -> {
            Nexus n = registry.require(req.getUuid());
            n.faultChild(requireUri(req.getUri()), req.getReason());
            return toProto(n);
        });
    }

    @Override
    public void pauseNexusWrites(io.javastor.api.ioengine.v1.PauseNexusWritesRequest req,
                                 StreamObserver<io.javastor.api.ioengine.v1.PauseNexusWritesResponse> out) {
        call(out, () -> {
            if (req.getLeaseMs() < 1 || req.getLeaseMs() > 60_000) {
                throw EngineException.invalid("lease_ms", "must be 1 to 60000, got " + req.getLeaseMs());
            }
            Nexus n = registry.require(req.getUuid());
            Nexus.WritePause p = join(n.pauseWrites(java.time.Duration.ofMillis(req.getLeaseMs())));
            return io.javastor.api.ioengine.v1.PauseNexusWritesResponse.newBuilder().setPauseId(p.id())
                    .addAllOnlineChildren(p.onlineChildren()).build();
        });
    }

    @Override
    public void resumeNexusWrites(io.javastor.api.ioengine.v1.ResumeNexusWritesRequest req,
                                  StreamObserver<io.javastor.api.ioengine.v1.ResumeNexusWritesResponse> out) {
        call(out, () -> io.javastor.api.ioengine.v1.ResumeNexusWritesResponse.newBuilder()
                .setHeld(registry.require(req.getUuid()).resumeWrites(req.getPauseId())).build());
    }

    @Override
    public void publishNexus(PublishNexusRequest req, StreamObserver<io.javastor.api.ioengine.v1.Nexus> out) {
        call(out, () -> {
            if (req.getProtocol() != ShareProtocol.SHARE_PROTOCOL_NVMF) {
                throw EngineException.invalid("protocol", "only SHARE_PROTOCOL_NVMF is supported, got " + req.getProtocol());
            }
            registry.publish(req.getUuid(), req.getAllowedHostsList(), DhchapRequests.keys("dhchap", req.getDhchapMap()));
            return toProto(registry.require(req.getUuid()));
        });
    }

    @Override
    public void unpublishNexus(UnpublishNexusRequest req, StreamObserver<io.javastor.api.ioengine.v1.Nexus> out) {
        call(out, () -> {
            Nexus n = registry.require(req.getUuid());
            registry.unpublish(n.uuid());
            return toProto(n);
        });
    }

    @Override
    public void resizeNexus(io.javastor.api.ioengine.v1.ResizeNexusRequest req, StreamObserver<io.javastor.api.ioengine.v1.Nexus> out) {
        call(out, () -> toProto(registry.resize(req.getUuid(), req.getRequestedSize())));
    }

    @Override
    public void startRebuild(RebuildRequest req, StreamObserver<io.javastor.api.ioengine.v1.RebuildStats> out) {
        call(out, () -> {
            Nexus n = registry.require(req.getUuid());
            String uri = requireUri(req.getUri());
            NexusChild c = n.child(uri).orElseThrow(() -> EngineException.notFound("child " + uri + " of nexus " + n.uuid()));
            if (c.isOnline()) {
                throw new EngineException(EngineException.Kind.FAILED_PRECONDITION, "child " + uri + " is Online: nothing to rebuild");
            }
            n.addChild(uri);
            return statsOf(n, uri);
        });
    }

    @Override
    public void pauseRebuild(RebuildRequest req, StreamObserver<io.javastor.api.ioengine.v1.RebuildStats> out) {
        onJob(req, out, job -> {
            job.pause();
            return job.stats();
        });
    }

    @Override
    public void resumeRebuild(RebuildRequest req, StreamObserver<io.javastor.api.ioengine.v1.RebuildStats> out) {
        onJob(req, out, job -> {
            job.resume();
            return job.stats();
        });
    }

    @Override
    public void stopRebuild(RebuildRequest req, StreamObserver<io.javastor.api.ioengine.v1.RebuildStats> out) {
        onJob(req, out, job -> {
            job.cancel("stopped by request");
            job.awaitEnd();
            return job.stats();
        });
    }

    @Override
    public void getRebuildStats(RebuildRequest req, StreamObserver<io.javastor.api.ioengine.v1.RebuildStats> out) {
        call(out, () -> {
            Nexus n = registry.require(req.getUuid());
            return statsOf(n, requireUri(req.getUri()));
        });
    }

    @Override
    public void getRebuildHistory(RebuildHistoryRequest req, StreamObserver<RebuildHistoryResponse> out) {
        call(out, () -> {
            Nexus n = registry.require(req.getUuid());
            RebuildHistoryResponse.Builder b = RebuildHistoryResponse.newBuilder().setNexusUuid(n.uuid().toString());
            n.rebuildHistory().forEach(s -> b.addRecords(toProto(n, s)));
            return b.build();
        });
    }

    private void onJob(RebuildRequest req, StreamObserver<io.javastor.api.ioengine.v1.RebuildStats> out, Function<NexusRebuildJob, RebuildStats> action) {
        call(out, () -> {
            Nexus n = registry.require(req.getUuid());
            String uri = requireUri(req.getUri());
            NexusRebuildJob job = n.rebuild(uri).orElseThrow(() -> new EngineException(EngineException.Kind.FAILED_PRECONDITION,
                    "no rebuild of " + uri + " is running on nexus " + n.uuid()));
            return toProto(n, action.apply(job));
        });
    }

    /** The running rebuild of a child, else its latest finished one. */
    private static io.javastor.api.ioengine.v1.RebuildStats statsOf(Nexus n, String uri) {
        if (n.child(uri).isEmpty()) {
            throw EngineException.notFound("child " + uri + " of nexus " + n.uuid());
        }
        RebuildStats s = n.rebuild(uri).map(NexusRebuildJob::stats).orElseGet(() -> {
            RebuildStats last = null;
            for (RebuildStats h : n.rebuildHistory()) {
                if (h.childUri().equals(uri)) {
                    last = h;
                }
            }
            if (last == null) {
                throw EngineException.notFound("no rebuild of " + uri + " on nexus " + n.uuid());
            }
            return last;
        });
        return toProto(n, s);
    }

    /** Waits for a nexus operation; a failed flush of the children is UNAVAILABLE (worth a retry), named. */
    private static <T> T join(java.util.concurrent.CompletableFuture<T> f) {
        try {
            return f.get(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "interrupted");
        } catch (java.util.concurrent.TimeoutException e) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "nexus did not answer within 60 s");
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause() instanceof java.util.concurrent.CompletionException ce && ce.getCause() != null ? ce.getCause() : e.getCause();
            if (c instanceof EngineException ee) {
                throw ee;
            }
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "flushing the children failed: " + c.getMessage(), c);
        }
    }

    private static String requireUri(String uri) {
        if (uri.isBlank()) {
            throw EngineException.invalid("uri", "is required");
        }
        return uri;
    }

    io.javastor.api.ioengine.v1.Nexus toProto(Nexus n) {
        NexusState s = n.state();
        io.javastor.api.ioengine.v1.Nexus.Builder b = io.javastor.api.ioengine.v1.Nexus.newBuilder()
                .setUuid(n.uuid().toString()).setSize(n.size()).setBlockSize(n.blockSize())
                .setState(stateOf(s)).setStateReason(s.reason()).setStateSinceUnixMs(ms(s.since()))
                .setRebuilds(n.rebuilds().size()).setReservationKey(n.reservationKey());
        for (NexusChild c : n.children()) {
            ChildState cs = c.state();
            b.addChildren(io.javastor.api.ioengine.v1.NexusChild.newBuilder().setUri(c.uri())
                    .setState(cs instanceof ChildState.Online ? io.javastor.api.ioengine.v1.ChildState.CHILD_STATE_ONLINE
                            : cs instanceof ChildState.Degraded ? io.javastor.api.ioengine.v1.ChildState.CHILD_STATE_DEGRADED
                            : io.javastor.api.ioengine.v1.ChildState.CHILD_STATE_FAULTED)
                    .setStateReason(cs.reason()).setStateSinceUnixMs(ms(cs.since()))
                    .setRebuildProgress(n.rebuild(c.uri()).map(j -> j.stats().percent()).orElse(0))
                    .setDirtySegments(c.dirtySegments()));
        }
        NexusRegistry.Share share = registry.share(n.uuid());
        if (share != null) {
            b.setDeviceUri(share.uri()).addAllAllowedHosts(share.allowedHosts());
        }
        return b.build();
    }

    private static io.javastor.api.ioengine.v1.NexusState stateOf(NexusState s) {
        if (s instanceof NexusState.Online) {
            return io.javastor.api.ioengine.v1.NexusState.NEXUS_STATE_ONLINE;
        } else if (s instanceof NexusState.Degraded) {
            return io.javastor.api.ioengine.v1.NexusState.NEXUS_STATE_DEGRADED;
        } else if (s instanceof NexusState.Faulted) {
            return io.javastor.api.ioengine.v1.NexusState.NEXUS_STATE_FAULTED;
        } else if (s instanceof NexusState.ShuttingDown) {
            return io.javastor.api.ioengine.v1.NexusState.NEXUS_STATE_SHUTTING_DOWN;
        }
        return io.javastor.api.ioengine.v1.NexusState.NEXUS_STATE_SHUTDOWN;
    }

    static io.javastor.api.ioengine.v1.RebuildStats toProto(Nexus n, RebuildStats s) {
        return io.javastor.api.ioengine.v1.RebuildStats.newBuilder().setNexusUuid(n.uuid().toString()).setChildUri(s.childUri())
                .setSourceUri(s.sourceUri()).setState(io.javastor.api.ioengine.v1.RebuildState.valueOf("REBUILD_STATE_" + s.state().name()))
                .setPartial(s.partial()).setBlocksTotal(s.blocksTotal()).setBlocksRecovered(s.blocksRecovered())
                .setProgressPercent(s.percent()).setBlockSize(s.blockSize()).setStartUnixMs(ms(s.start()))
                .setEndUnixMs(s.end() == null ? 0 : ms(s.end())).setReason(s.reason()).build();
    }

    private static long ms(Instant i) {
        return i.toEpochMilli();
    }
}
