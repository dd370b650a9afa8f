package io.javastor.ioengine.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.ioengine.v1.CreatePoolRequest;
import io.javastor.api.ioengine.v1.ListPoolsRequest;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.testsupport.ClusterCertificates;
import io.javastor.testsupport.IoEngineProcess;
import io.javastor.testsupport.IoEngineStubs;

/**
 * The io-engine's gRPC port with mTLS (issue 16): only the core agent's certificate gets in; plaintext, another CA and
 * other components are refused before anything changes; and the agent's side refuses an engine whose certificate names
 * another node than the one it meant to reach.
 */
class PeerRulesTest {

    @Test
    void onlyTheCoreAgentGetsIn(@TempDir Path tmp) throws Exception {
        try (IoEngineProcess engine = IoEngineProcess.fromClasspath("node-tls", List.of(), tmp.resolve("engine.log"), List.of()).start()) {
            String target = "127.0.0.1:" + engine.grpcPort();
            String disk = "malloc:///tls?size_mb=16";
            Function<IoEngineStubs, Object> createPool = api -> api.pools().createPool(CreatePoolRequest.newBuilder().setName("p-tls")
                    .addDisks(disk).build());

            refused(ManagedChannelBuilder.forTarget(target).usePlaintext().build(), createPool, Status.Code.UNAVAILABLE);
            refused(ClusterCertificates.newAuthority().of(ClusterPeer.CORE_AGENT).channelTo(target, new ClusterPeer.Node("node-tls")).build(),
                    createPool, Status.Code.UNAVAILABLE);
            for (ClusterPeer notTheAgent : List.of(ClusterPeer.REST_GATEWAY, ClusterPeer.CSI_NODE, new ClusterPeer.Node("node-tls"))) {
                refused(ClusterCertificates.shared().of(notTheAgent).channelTo(target, new ClusterPeer.Node("node-tls")).build(),
                        createPool, Status.Code.PERMISSION_DENIED);
            }
            // The agent expecting node-other at this address: the engine's certificate names node-tls, so no call is made.
            refused(ClusterCertificates.shared().of(ClusterPeer.CORE_AGENT).channelTo(target, new ClusterPeer.Node("node-other")).build(),
                    createPool, Status.Code.UNAVAILABLE);

            assertThat(engine.api().pools().listPools(ListPoolsRequest.getDefaultInstance()).getPoolsList())
                    .as("no refused call created a pool").isEmpty();
            createPool.apply(engine.api());
            assertThat(engine.api().pools().listPools(ListPoolsRequest.getDefaultInstance()).getPoolsList()).hasSize(1);
        }
    }

    private static void refused(ManagedChannel channel, Function<IoEngineStubs, Object> call, Status.Code expected) throws InterruptedException {
        try {
            assertThatThrownBy(() -> call.apply(IoEngineStubs.on(channel, Duration.ofSeconds(20))))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(expected));
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
