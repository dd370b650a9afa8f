package io.javastor.ioengine.nexus;

import io.javastor.testsupport.FreePorts;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.ioengine.v1.AddChildNexusRequest;
import io.javastor.api.ioengine.v1.ChildState;
import io.javastor.api.ioengine.v1.CreateNexusRequest;
import io.javastor.api.ioengine.v1.CreatePoolRequest;
import io.javastor.api.ioengine.v1.CreateReplicaRequest;
import io.javastor.api.ioengine.v1.DestroyNexusRequest;
import io.javastor.api.ioengine.v1.FaultNexusChildRequest;
import io.javastor.testsupport.IoEngineStubs;
import io.javastor.api.ioengine.v1.ListNexusRequest;
import io.javastor.api.ioengine.v1.Nexus;
import io.javastor.api.ioengine.v1.NexusState;
import io.javastor.api.ioengine.v1.PublishNexusRequest;
import io.javastor.api.ioengine.v1.RebuildHistoryRequest;
import io.javastor.api.ioengine.v1.RebuildRequest;
import io.javastor.api.ioengine.v1.RebuildState;
import io.javastor.api.ioengine.v1.RemoveChildNexusRequest;
import io.javastor.api.ioengine.v1.ShareProtocol;
import io.javastor.api.ioengine.v1.UnpublishNexusRequest;
import io.javastor.testsupport.IoEngineProcess;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The nexus RPCs of a real io-engine: idempotence, typed errors naming the field, states, rebuild control. */
class NexusGrpcServiceTest {

    @Test
    void nexusRpcsValidateAreIdempotentAndReportStates(@TempDir Path tmp) throws Exception {
        try (IoEngineProcess e = IoEngineProcess.fromClasspath("node-api", List.of(), tmp.resolve("engine.log"),
                List.of("--javastor.io-engine.nvmf.port=" + FreePorts.next())).start()) {
            IoEngineStubs api = e.api();
            api.pools().createPool(CreatePoolRequest.newBuilder().setName("p").addDisks("malloc:///api?size_mb=256").setClusterSize(1 << 20).build());
            String a = replica(api);
            String b = replica(api);
            String c = replica(api);
            String id = UUID.randomUUID().toString();
            long size = 32L << 20;

            expect(Status.Code.INVALID_ARGUMENT, "uuid", () -> api.nexuses().createNexus(CreateNexusRequest.newBuilder().setUuid("nope").setSize(size).addChildren(a).build()));
            expect(Status.Code.INVALID_ARGUMENT, "size", () -> api.nexuses().createNexus(CreateNexusRequest.newBuilder().setUuid(id).addChildren(a).build()));
            expect(Status.Code.INVALID_ARGUMENT, "children", () -> api.nexuses().createNexus(CreateNexusRequest.newBuilder().setUuid(id).setSize(size).build()));
            expect(Status.Code.INVALID_ARGUMENT, "children", () -> api.nexuses().createNexus(CreateNexusRequest.newBuilder().setUuid(id).setSize(size).addChildren(a).addChildren(a).build()));
            expect(Status.Code.INVALID_ARGUMENT, "uri", () -> api.nexuses().createNexus(CreateNexusRequest.newBuilder().setUuid(id).setSize(size).addChildren("http://x").build()));
            expect(Status.Code.NOT_FOUND, "replica", () -> api.nexuses().createNexus(CreateNexusRequest.newBuilder().setUuid(id).setSize(size)
                    .addChildren("bdev:///" + UUID.randomUUID()).build()));
            expect(Status.Code.INVALID_ARGUMENT, "children", () -> api.nexuses().createNexus(CreateNexusRequest.newBuilder().setUuid(id).setSize(size * 4).addChildren(a).build()));
            assertThat(api.nexuses().listNexus(ListNexusRequest.getDefaultInstance()).getNexusListList()).as("nothing half-created").isEmpty();

            CreateNexusRequest spec = CreateNexusRequest.newBuilder().setUuid(id).setSize(size).addChildren(a).addChildren(b).build();
            Nexus n = api.nexuses().createNexus(spec);
            assertThat(n.getState()).isEqualTo(NexusState.NEXUS_STATE_ONLINE);
            assertThat(n.getChildrenList()).allSatisfy(ch -> assertThat(ch.getState()).isEqualTo(ChildState.CHILD_STATE_ONLINE));
            assertThat(n.getStateSinceUnixMs()).isPositive();
            assertThat(api.nexuses().createNexus(spec.toBuilder().clearChildren().addChildren(b).addChildren(a).build()).getUuid()).isEqualTo(id);
            expect(Status.Code.ALREADY_EXISTS, id, () -> api.nexuses().createNexus(spec.toBuilder().addChildren(c).build()));

            expect(Status.Code.NOT_FOUND, "nexus", () -> api.nexuses().addChildNexus(AddChildNexusRequest.newBuilder().setUuid(UUID.randomUUID().toString()).setUri(c).build()));
            expect(Status.Code.INVALID_ARGUMENT, "uri", () -> api.nexuses().addChildNexus(AddChildNexusRequest.newBuilder().setUuid(id).build()));
            expect(Status.Code.INVALID_ARGUMENT, "protocol", () -> api.nexuses().publishNexus(PublishNexusRequest.newBuilder().setUuid(id).build()));
            expect(Status.Code.INVALID_ARGUMENT, "allowed_hosts", () -> api.nexuses().publishNexus(PublishNexusRequest.newBuilder().setUuid(id)
                    .setProtocol(ShareProtocol.SHARE_PROTOCOL_NVMF).addAllowedHosts("not-an-nqn").build()));
            Nexus published = api.nexuses().publishNexus(PublishNexusRequest.newBuilder().setUuid(id).setProtocol(ShareProtocol.SHARE_PROTOCOL_NVMF).build());
            assertThat(published.getDeviceUri()).startsWith("nvmf://127.0.0.1:").endsWith(":" + id);
            // I/O through the published nexus shows in its per-nexus metrics, with its state and children.
            try (NvmfBlockDevice dev = NvmfBlockDevice.connect(published.getDeviceUri(),
                    NvmfHostOptions.defaults("nqn.2019-05.io.javastor:node-name:metrics-test"))) {
                for (int i = 0; i < 8; i++) {
                    ByteBuffer block = DmaBuffers.allocate(4096);
                    block.putLong(0, i);
                    dev.write(i * 4096L, block).get(30, TimeUnit.SECONDS);
                }
                ByteBuffer back = DmaBuffers.allocate(4096);
                dev.read(3 * 4096L, back).get(30, TimeUnit.SECONDS);
                assertThat(back.getLong(0)).isEqualTo(3);
            }
            String tag = "nexus=\"" + id + "\"";
            await("per-nexus metrics").atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                String metrics = e.http("/actuator/prometheus");
                assertThat(metrics).contains("javastor_nexus_state{" + tag + ",state=\"Online\"} 1.0")
                        .contains("javastor_nexus_children{" + tag + ",state=\"Online\"} 2.0")
                        .contains("javastor_nexus_io_bytes_total{" + tag + ",op=\"write\"} 32768.0")
                        .contains("javastor_nexus_io_latency_seconds_count{" + tag + ",op=\"read\"} 1\n")
                        .contains("javastor_nexus_rebuilds{" + tag + "} 0.0");
            });
            assertThat(api.nexuses().unpublishNexus(UnpublishNexusRequest.newBuilder().setUuid(id).build()).getDeviceUri()).isEmpty();

            // A write pause for a consistent snapshot: it answers the Online children; one at a time; bad input named.
            var pause = api.nexuses().pauseNexusWrites(io.javastor.api.ioengine.v1.PauseNexusWritesRequest.newBuilder().setUuid(id).setLeaseMs(10_000).build());
            assertThat(pause.getOnlineChildrenList()).containsExactlyInAnyOrder(a, b);
            expect(Status.Code.FAILED_PRECONDITION, "already paused", () -> api.nexuses().pauseNexusWrites(
                    io.javastor.api.ioengine.v1.PauseNexusWritesRequest.newBuilder().setUuid(id).setLeaseMs(1000).build()));
            expect(Status.Code.INVALID_ARGUMENT, "lease_ms", () -> api.nexuses().pauseNexusWrites(
                    io.javastor.api.ioengine.v1.PauseNexusWritesRequest.newBuilder().setUuid(id).build()));
            expect(Status.Code.NOT_FOUND, "nexus", () -> api.nexuses().pauseNexusWrites(io.javastor.api.ioengine.v1.PauseNexusWritesRequest
                    .newBuilder().setUuid(UUID.randomUUID().toString()).setLeaseMs(1000).build()));
            assertThat(api.nexuses().resumeNexusWrites(io.javastor.api.ioengine.v1.ResumeNexusWritesRequest.newBuilder().setUuid(id)
                    .setPauseId(pause.getPauseId()).build()).getHeld()).isTrue();
            assertThat(api.nexuses().resumeNexusWrites(io.javastor.api.ioengine.v1.ResumeNexusWritesRequest.newBuilder().setUuid(id)
                    .setPauseId(pause.getPauseId()).build()).getHeld()).as("a pause ends once").isFalse();

            // Fault, then re-add: a partial rebuild, visible in stats and history.
            Nexus faulted = api.nexuses().faultNexusChild(FaultNexusChildRequest.newBuilder().setUuid(id).setUri(b).setReason("test").build());
            assertThat(faulted.getState()).isEqualTo(NexusState.NEXUS_STATE_DEGRADED);
            assertThat(faulted.getChildrenList()).filteredOn(ch -> ch.getUri().equals(b)).singleElement()
                    .satisfies(ch -> assertThat(ch.getStateReason()).isEqualTo("test"));
            expect(Status.Code.FAILED_PRECONDITION, "last healthy child", () -> api.nexuses().faultNexusChild(FaultNexusChildRequest.newBuilder().setUuid(id).setUri(a).build()));
            expect(Status.Code.FAILED_PRECONDITION, "no rebuild", () -> api.nexuses().pauseRebuild(RebuildRequest.newBuilder().setUuid(id).setUri(b).build()));
            api.nexuses().startRebuild(RebuildRequest.newBuilder().setUuid(id).setUri(b).build());
            await().atMost(Duration.ofSeconds(30)).until(() -> api.nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(id).build())
                    .getNexusList(0).getState() == NexusState.NEXUS_STATE_ONLINE);
            var stats = api.nexuses().getRebuildStats(RebuildRequest.newBuilder().setUuid(id).setUri(b).build());
            assertThat(stats.getState()).isEqualTo(RebuildState.REBUILD_STATE_COMPLETED);
            assertThat(stats.getPartial()).isTrue();
            assertThat(stats.getProgressPercent()).isEqualTo(100);

            // A new child: full rebuild.
            api.nexuses().addChildNexus(AddChildNexusRequest.newBuilder().setUuid(id).setUri(c).build());
            await().atMost(Duration.ofSeconds(30)).until(() -> api.nexuses().getRebuildHistory(RebuildHistoryRequest.newBuilder().setUuid(id).build())
                    .getRecordsCount() == 2);
            var history = api.nexuses().getRebuildHistory(RebuildHistoryRequest.newBuilder().setUuid(id).build()).getRecordsList();
            assertThat(history.get(1).getChildUri()).isEqualTo(c);
            assertThat(history.get(1).getPartial()).isFalse();
            assertThat(history.get(1).getBlocksTotal() * history.get(1).getBlockSize()).isEqualTo(size);
            assertThat(history.get(1).getEndUnixMs()).isGreaterThanOrEqualTo(history.get(1).getStartUnixMs());

            Nexus removed = api.nexuses().removeChildNexus(RemoveChildNexusRequest.newBuilder().setUuid(id).setUri(c).build());
            assertThat(removed.getChildrenCount()).isEqualTo(2);
            assertThat(api.nexuses().removeChildNexus(RemoveChildNexusRequest.newBuilder().setUuid(id).setUri(c).build()).getChildrenCount())
                    .as("removing an absent child is a no-op").isEqualTo(2);

            api.nexuses().destroyNexus(DestroyNexusRequest.newBuilder().setUuid(id).build());
            api.nexuses().destroyNexus(DestroyNexusRequest.newBuilder().setUuid(id).build());
            assertThat(api.nexuses().listNexus(ListNexusRequest.getDefaultInstance()).getNexusListList()).isEmpty();
        }
    }

    private static String replica(IoEngineStubs api) {
        return api.replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(UUID.randomUUID().toString()).setPool("p")
                .setSize(32L << 20).setThin(true).build()).getUri();
    }

    private static void expect(Status.Code code, String messagePart, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(messagePart);
        });
    }
}
