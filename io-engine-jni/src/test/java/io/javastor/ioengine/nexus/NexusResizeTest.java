package io.javastor.ioengine.nexus;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.ioengine.v1.CreateNexusRequest;
import io.javastor.api.ioengine.v1.CreatePoolRequest;
import io.javastor.api.ioengine.v1.CreateReplicaRequest;
import io.javastor.testsupport.IoEngineStubs;
import io.javastor.api.ioengine.v1.ListNexusRequest;
import io.javastor.api.ioengine.v1.Nexus;
import io.javastor.api.ioengine.v1.NexusState;
import io.javastor.api.ioengine.v1.PublishNexusRequest;
import io.javastor.api.ioengine.v1.Replica;
import io.javastor.api.ioengine.v1.ResizeNexusRequest;
import io.javastor.api.ioengine.v1.ResizeReplicaRequest;
import io.javastor.api.ioengine.v1.ShareProtocol;
import io.javastor.api.ioengine.v1.ShareReplicaRequest;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import io.javastor.testsupport.IoEngineProcess;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * ResizeNexus on a published nexus of two real io-engines (a local replica and a remote one over NVMe/TCP), with
 * this JVM connected to the nexus over NVMe/TCP: the replicas must grow first (FAILED_PRECONDITION names the child
 * that is too small), then the nexus grows, the connected host learns the new size from the target's Namespace
 * Attribute Changed notice without reconnecting, and writes in the grown range reach both children.
 */
class NexusResizeTest {
    static final long MIB = 1L << 20;
    static final long FROM = 32 * MIB;
    static final long TO = 48 * MIB;

    @Test
    void aPublishedNexusGrowsAfterItsReplicasAndItsHostSeesTheNewSize(@TempDir Path tmp) throws Exception {
        try (IoEngineProcess n1 = IoEngineProcess.fromClasspath("resize-1", List.of(), tmp.resolve("n1.log"), List.of()).start();
             IoEngineProcess n2 = IoEngineProcess.fromClasspath("resize-2", List.of(), tmp.resolve("n2.log"), List.of()).start()) {
            IoEngineStubs e1 = n1.api();
            IoEngineStubs e2 = n2.api();
            e1.pools().createPool(CreatePoolRequest.newBuilder().setName("p").addDisks("malloc:///r1?size_mb=128").setClusterSize(MIB).build());
            e2.pools().createPool(CreatePoolRequest.newBuilder().setName("p").addDisks("malloc:///r2?size_mb=128").setClusterSize(MIB).build());
            Replica local = e1.replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(UUID.randomUUID().toString()).setPool("p").setSize(FROM).build());
            Replica remote = e2.replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(UUID.randomUUID().toString()).setPool("p").setSize(FROM).setThin(true).build());
            String remoteUri = e2.replicas().shareReplica(ShareReplicaRequest.newBuilder().setUuid(remote.getUuid()).setProtocol(ShareProtocol.SHARE_PROTOCOL_NVMF).build()).getUri();
            String id = UUID.randomUUID().toString();
            CreateNexusRequest create = CreateNexusRequest.newBuilder().setUuid(id).setSize(FROM).addChildren(local.getUri()).addChildren(remoteUri).build();
            e1.nexuses().createNexus(create);
            String nexusUri = e1.nexuses().publishNexus(PublishNexusRequest.newBuilder().setUuid(id).setProtocol(ShareProtocol.SHARE_PROTOCOL_NVMF).build()).getDeviceUri();

            try (NvmfBlockDevice app = NvmfBlockDevice.connect(nexusUri, NvmfHostOptions.defaults("nqn.2019-05.io.javastor:node-name:resize-app"));
                 NvmfBlockDevice remoteView = NvmfBlockDevice.connect(remoteUri, NvmfHostOptions.defaults("nqn.2019-05.io.javastor:node-name:resize-check"))) {
                assertThat(app.size()).isEqualTo(FROM);
                write(app, 0, 0x11);
                write(app, FROM - 4096, 0x22);

                expect(Status.Code.INVALID_ARGUMENT, "requested_size", () -> e1.nexuses().resizeNexus(ResizeNexusRequest.newBuilder().setUuid(id).setRequestedSize(TO + 1).build()));
                expect(Status.Code.NOT_FOUND, "nexus", () -> e1.nexuses().resizeNexus(ResizeNexusRequest.newBuilder().setUuid(UUID.randomUUID().toString()).setRequestedSize(TO).build()));
                expect(Status.Code.FAILED_PRECONDITION, "only grows", () -> e1.nexuses().resizeNexus(ResizeNexusRequest.newBuilder().setUuid(id).setRequestedSize(FROM / 2).build()));
                // The Mayastor order: replicas first. Each too-small child is named.
                expect(Status.Code.FAILED_PRECONDITION, local.getUri(), () -> e1.nexuses().resizeNexus(ResizeNexusRequest.newBuilder().setUuid(id).setRequestedSize(TO).build()));
                e1.replicas().resizeReplica(ResizeReplicaRequest.newBuilder().setUuid(local.getUuid()).setRequestedSize(TO).build());
                expect(Status.Code.FAILED_PRECONDITION, remoteUri, () -> e1.nexuses().resizeNexus(ResizeNexusRequest.newBuilder().setUuid(id).setRequestedSize(TO).build()));
                assertThat(nexus(e1, id).getSize()).as("a refused resize changes nothing").isEqualTo(FROM);
                assertThat(app.size()).isEqualTo(FROM);

                e2.replicas().resizeReplica(ResizeReplicaRequest.newBuilder().setUuid(remote.getUuid()).setRequestedSize(TO).build());
                // The replica's own share told its host (our second connection) too.
                await("remote replica's host sees the grown replica").atMost(Duration.ofSeconds(30)).until(() -> remoteView.size() == TO);

                Nexus grown = e1.nexuses().resizeNexus(ResizeNexusRequest.newBuilder().setUuid(id).setRequestedSize(TO).build());
                assertThat(grown.getSize()).isEqualTo(TO);
                assertThat(grown.getState()).isEqualTo(NexusState.NEXUS_STATE_ONLINE);
                assertThat(e1.nexuses().resizeNexus(ResizeNexusRequest.newBuilder().setUuid(id).setRequestedSize(TO).build()).getSize())
                        .as("idempotent").isEqualTo(TO);
                assertThat(e1.nexuses().createNexus(create.toBuilder().setSize(TO).build()).getSize())
                        .as("CreateNexus with the grown size is the same nexus").isEqualTo(TO);

                // No reconnect: the target's notice makes our host read the Changed Namespace List and Identify again.
                int cntlid = app.controllerId();
                await("host sees the new size").atMost(Duration.ofSeconds(30)).until(() -> app.size() == TO);
                assertThat(app.controllerId()).isEqualTo(cntlid);

                write(app, TO - 4096, 0x33);
                write(app, FROM, 0x44);
                check(app, 0, 0x11);
                check(app, FROM - 4096, 0x22);
                check(app, TO - 4096, 0x33);
                check(app, FROM, 0x44);
                check(remoteView, TO - 4096, 0x33);
                check(remoteView, FROM, 0x44);
                assertThat(nexus(e1, id).getState()).as("no child faulted").isEqualTo(NexusState.NEXUS_STATE_ONLINE);
            }
        }
    }

    private static Nexus nexus(IoEngineStubs api, String id) {
        return api.nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(id).build()).getNexusList(0);
    }

    private static void write(NvmfBlockDevice d, long offset, int fill) throws Exception {
        ByteBuffer b = DmaBuffers.allocate(4096);
        for (int i = 0; i < 4096; i++) {
            b.put(i, (byte) fill);
        }
        d.write(offset, b).get(30, TimeUnit.SECONDS);
    }

    private static void check(NvmfBlockDevice d, long offset, int fill) throws Exception {
        ByteBuffer b = DmaBuffers.allocate(4096);
        d.read(offset, b).get(30, TimeUnit.SECONDS);
        for (int i = 0; i < 4096; i++) {
            assertThat(b.get(i)).as("%s byte %d at %d", d.uri(), i, offset).isEqualTo((byte) fill);
        }
    }

    private static void expect(Status.Code code, String messagePart, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(messagePart);
        });
    }
}
