package io.javastor.core.watch;

import io.javastor.testsupport.JavaProcess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.sun.net.httpserver.HttpServer;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.CreateVolumeWatchRequest;
import io.javastor.api.core.v1.DeleteVolumeWatchRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.GetVolumeRequest;
import io.javastor.api.core.v1.ListVolumeWatchesRequest;
import io.javastor.api.core.v1.ResizeVolumeRequest;
import io.javastor.api.core.v1.SetVolumeReplicaCountRequest;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.core.v1.VolumeStatus;
import io.javastor.api.core.v1.VolumeWatch;
import io.javastor.api.core.v1.WatchServiceGrpc;
import io.javastor.core.leader.LeaderElection;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.testsupport.IoEngineProcess;
import io.javastor.testsupport.StorageNodes;
import io.javastor.core.testsupport.RunningAgent;
import io.javastor.core.volume.VolumeViews;

/**
 * Volume watches end to end: a core agent, two real io-engines, and a real HTTP receiver on loopback that
 * records every call the agent makes to it.
 */
class VolumeWatchTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    private static final long MIB = 1 << 20;
    private static final String CLUSTER = "watches";
    private static final Duration LONG = Duration.ofMinutes(2);
    private static Path dir;
    private static RunningAgent agent;
    private static StorageNodes storage;
    private static Receiver receiver;

    /** One call the agent made: method, path and body length. */
    record Call(String method, String path, int bodyLength) {}

    /** Answers 204, except under /fail (500 while failing is set) and /hang (answers after 5 s, far beyond the agent's timeout). */
    static final class Receiver implements AutoCloseable {
        final HttpServer server;
        final List<Call> calls = new CopyOnWriteArrayList<>();
        final CountDownLatch closing = new CountDownLatch(1);
        volatile boolean failing = true;

        Receiver() throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
            server.setExecutor(Executors.newCachedThreadPool());
            server.createContext("/", exchange -> {
                byte[] body = exchange.getRequestBody().readAllBytes();
                String path = exchange.getRequestURI().getPath();
                calls.add(new Call(exchange.getRequestMethod(), path, body.length));
                int status = 204;
                if (path.startsWith("/fail") && failing) {
                    status = 500;
                } else if (path.startsWith("/hang")) {
                    try {
                        closing.await(5, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                exchange.sendResponseHeaders(status, -1);
                exchange.close();
            });
            server.start();
        }

        String url(String path) {
            return "http://127.0.0.1:" + server.getAddress().getPort() + path;
        }

        long count(String path) {
            return calls.stream().filter(c -> c.path().equals(path)).count();
        }

        @Override
        public void close() {
            closing.countDown();
            server.stop(0);
        }
    }

    @BeforeAll
    static void startCluster() throws Exception {
        JavaProcess.execJar(JavaProcess.IO_ENGINE_JAR); // skip early, with the reason, when the io-engine was not built
        dir = Files.createTempDirectory("javastor-watches-");
        receiver = new Receiver();
        agent = startAgent(0);
        String agentEndpoint = "127.0.0.1:" + agent.grpcPort();
        storage = StorageNodes.start(List.of("node-1", "node-2"), agentEndpoint, agent.channel(), dir, 128, Map.of());
    }

    /** An agent on the given gRPC port (0: any), with a short callback timeout. */
    private static RunningAgent startAgent(int grpcPort) {
        RunningAgent a = RunningAgent.start(etcd.endpoint(), CLUSTER, "agent-watches-" + UUID.randomUUID().toString().substring(0, 4),
                Map.of("spring.grpc.server.address", "127.0.0.1:" + grpcPort, "javastor.core.watches.callback-timeout", "1s",
                        "javastor.core.nodes.heartbeat-timeout", "3s", "javastor.core.nodes.state-poll-interval", "500ms"));
        await().atMost(LONG).until(() -> a.bean(LeaderElection.class).isLeader());
        return a;
    }

    private static void awaitNodesOnline() {
        StorageNodes.awaitOnline(agent.channel(), storage.engines().stream().map(IoEngineProcess::name).toList());
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (storage != null) {
            storage.close();
        }
        if (agent != null) {
            agent.close();
        }
        if (receiver != null) {
            receiver.close();
        }
    }

    private static WatchServiceGrpc.WatchServiceBlockingStub watches() {
        return WatchServiceGrpc.newBlockingStub(agent.channel()).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private static VolumeServiceGrpc.VolumeServiceBlockingStub volumes() {
        return VolumeServiceGrpc.newBlockingStub(agent.channel()).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    private static String onlineVolume() {
        String uuid = UUID.randomUUID().toString();
        volumes().createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(8 * MIB).setReplicaCount(1).setThin(true).build());
        await().atMost(LONG).until(() -> volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()).getStatus()
                == VolumeStatus.VOLUME_STATUS_ONLINE);
        return uuid;
    }

    private static VolumeWatch watch(String volume, String path) {
        return watches().createVolumeWatch(CreateVolumeWatchRequest.newBuilder().setVolumeUuid(volume).setCallback(receiver.url(path)).build());
    }

    private static List<VolumeWatch> watchesOf(String volume) {
        return watches().listVolumeWatches(ListVolumeWatchesRequest.newBuilder().setVolumeUuid(volume).build()).getWatchesList();
    }

    /** The watch's callback has heard of the volume as it is now: no call for it is under way or due. */
    private static boolean caughtUp(String volume, String path) {
        SpecStore store = agent.bean(SpecStore.class);
        String now = VolumeFingerprint.of(agent.bean(VolumeViews.class).get(volume));
        return store.get(WatchSpec.KIND, WatchSpec.idOf(volume, receiver.url(path))).map(Versioned::spec)
                .map(w -> w.notifiedFingerprint().equals(now)).orElse(false);
    }

    private static void expect(Status.Code code, String messagePart, Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(messagePart);
        });
    }

    @Test
    void badInputIsRefusedNamingTheFieldAndStoresNothing() {
        String volume = onlineVolume();
        for (String bad : List.of("", "not a url", "/relative/path", "ftp://127.0.0.1/x", "http:///nohost", "http://user:pw@127.0.0.1/x",
                "http://127.0.0.1/" + "x".repeat(CallbackUrl.MAX_LENGTH))) {
            expect(Status.Code.INVALID_ARGUMENT, "callback", () -> watches().createVolumeWatch(CreateVolumeWatchRequest.newBuilder()
                    .setVolumeUuid(volume).setCallback(bad).build()));
        }
        expect(Status.Code.INVALID_ARGUMENT, "volume_uuid", () -> watches().createVolumeWatch(CreateVolumeWatchRequest.newBuilder()
                .setVolumeUuid("not-a-uuid").setCallback(receiver.url("/x")).build()));
        String unknown = UUID.randomUUID().toString();
        expect(Status.Code.NOT_FOUND, unknown, () -> watch(unknown, "/x"));
        expect(Status.Code.NOT_FOUND, unknown, () -> watchesOf(unknown));
        expect(Status.Code.NOT_FOUND, "/x", () -> watches().deleteVolumeWatch(DeleteVolumeWatchRequest.newBuilder()
                .setVolumeUuid(volume).setCallback(receiver.url("/x")).build()));
        assertThat(watchesOf(volume)).isEmpty();
        assertThat(agent.bean(SpecStore.class).list(WatchSpec.KIND)).allMatch(w -> !w.spec().volumeUuid().equals(volume));
    }

    @Test
    void aChangeCallsEveryWatchOnceAndADeletedWatchIsNotCalledAgain() {
        String volume = onlineVolume();
        VolumeWatch a = watch(volume, "/a");
        assertThat(a.getVolumeUuid()).isEqualTo(volume);
        assertThat(a.getCallback()).isEqualTo(receiver.url("/a"));
        assertThat(watch(volume, "/a")).isEqualTo(a); // idempotent
        watch(volume, "/b");
        assertThat(watchesOf(volume)).extracting(VolumeWatch::getCallback)
                .containsExactlyInAnyOrder(receiver.url("/a"), receiver.url("/b"));
        // Registering is not a change: the stored fingerprint is the volume's as it was then.
        assertThat(caughtUp(volume, "/a")).isTrue();

        volumes().setVolumeReplicaCount(SetVolumeReplicaCountRequest.newBuilder().setUuid(volume).setReplicaCount(2).build());
        await().atMost(LONG).until(() -> receiver.count("/a") >= 1 && receiver.count("/b") >= 1);
        assertThat(receiver.calls).filteredOn(c -> c.path().equals("/a")).allSatisfy(c -> {
            assertThat(c.method()).isEqualTo("PUT");
            assertThat(c.bodyLength()).isZero();
        });
        // Once the volume settles, each callback has heard of its final state, and no call is under way.
        await().atMost(LONG).until(() -> caughtUp(volume, "/a") && caughtUp(volume, "/b"));
        long callsOfA = receiver.count("/a");
        long callsOfB = receiver.count("/b");

        watches().deleteVolumeWatch(DeleteVolumeWatchRequest.newBuilder().setVolumeUuid(volume).setCallback(receiver.url("/a")).build());
        assertThat(watchesOf(volume)).extracting(VolumeWatch::getCallback).containsExactly(receiver.url("/b"));
        expect(Status.Code.NOT_FOUND, "/a", () -> watches().deleteVolumeWatch(DeleteVolumeWatchRequest.newBuilder()
                .setVolumeUuid(volume).setCallback(receiver.url("/a")).build()));

        volumes().resizeVolume(ResizeVolumeRequest.newBuilder().setUuid(volume).setSize(16 * MIB).build());
        await().atMost(LONG).until(() -> receiver.count("/b") > callsOfB && caughtUp(volume, "/b"));
        assertThat(receiver.count("/a")).as("calls to the deleted watch").isEqualTo(callsOfA);
    }

    @Test
    void aFailingCallbackIsRetriedAndAHungOneBlocksNothing() {
        String volume = onlineVolume();
        watch(volume, "/fail");
        watch(volume, "/hang");
        watch(volume, "/ok");
        long okBefore = receiver.count("/ok");
        volumes().resizeVolume(ResizeVolumeRequest.newBuilder().setUuid(volume).setSize(16 * MIB).build());
        // The hung receiver holds one call until its timeout; the others go on.
        await().atMost(LONG).until(() -> receiver.count("/ok") > okBefore && caughtUp(volume, "/ok"));
        // Retried (1 s, then 2 s apart) while it fails, and not recorded as heard.
        await().atMost(LONG).until(() -> receiver.count("/fail") >= 2);
        assertThat(caughtUp(volume, "/fail")).isFalse();
        receiver.failing = false;
        await().atMost(LONG).until(() -> caughtUp(volume, "/fail"));
        // The hung one timed out (1 s) and is called again: the agent does not wait on it.
        await().atMost(LONG).until(() -> receiver.count("/hang") >= 2);
        assertThat(caughtUp(volume, "/hang")).isFalse();
        for (String path : List.of("/hang", "/fail", "/ok")) {
            watches().deleteVolumeWatch(DeleteVolumeWatchRequest.newBuilder().setVolumeUuid(volume).setCallback(receiver.url(path)).build());
        }
    }

    @Test
    void destroyingTheVolumeCallsOnceMoreAndRemovesItsWatches() {
        String volume = onlineVolume();
        watch(volume, "/gone");
        long before = receiver.count("/gone");
        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(volume).build());
        await().atMost(LONG).until(() -> agent.bean(SpecStore.class).list(WatchSpec.KIND).stream()
                .noneMatch(w -> w.spec().volumeUuid().equals(volume)));
        await().atMost(LONG).until(() -> receiver.count("/gone") > before);
        expect(Status.Code.NOT_FOUND, volume, () -> watchesOf(volume));
    }

    @Test
    void watchesSurviveAnAgentRestart() throws Exception {
        String volume = onlineVolume();
        watch(volume, "/restart");
        long before = receiver.count("/restart");
        int port = agent.grpcPort();
        agent.close();
        // Same port: the io-engines keep registering with the address they were given.
        agent = startAgent(port);
        awaitNodesOnline();
        assertThat(watchesOf(volume)).extracting(VolumeWatch::getCallback).containsExactly(receiver.url("/restart"));
        await().atMost(LONG).until(() -> volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(volume).build()).getStatus()
                == VolumeStatus.VOLUME_STATUS_ONLINE && caughtUp(volume, "/restart"));
        volumes().resizeVolume(ResizeVolumeRequest.newBuilder().setUuid(volume).setSize(16 * MIB).build());
        await().atMost(LONG).until(() -> receiver.count("/restart") > before && caughtUp(volume, "/restart"));
        // The new leader waited until it had looked at the nodes: what it learnt meanwhile was no change to report,
        // so the resize is the one call.
        assertThat(receiver.count("/restart")).isEqualTo(before + 1);
    }
}
