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
import io.javastor.api.ioengine.v1.ListNexusRequest;
import io.javastor.api.ioengine.v1.Nexus;
import io.javastor.api.ioengine.v1.NexusChild;
import io.javastor.api.ioengine.v1.NexusState;
import io.javastor.api.ioengine.v1.PublishNexusRequest;
import io.javastor.api.ioengine.v1.RebuildHistoryRequest;
import io.javastor.api.ioengine.v1.RebuildRequest;
import io.javastor.api.ioengine.v1.RebuildState;
import io.javastor.api.ioengine.v1.RebuildStats;
import io.javastor.api.ioengine.v1.RemoveChildNexusRequest;
import io.javastor.api.ioengine.v1.ShareProtocol;
import io.javastor.api.ioengine.v1.ShareReplicaRequest;
import io.javastor.api.ioengine.v1.UnpublishNexusRequest;
import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import io.javastor.testsupport.IoEngineProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The main scenario with three real io-engine processes: node-1 runs the nexus over its local replica and two
 * remote replicas (node-2, node-3) shared over NVMe/TCP, and publishes it; this JVM writes and verifies through the
 * published nexus with our initiator while (a) node-2 is killed with kill -9, (b) node-2 restarts, re-imports its pool,
 * re-shares its replica, which is re-added and rebuilt partially, (c) node-3's replica is replaced by a fresh one on
 * another pool, rebuilt in full. No application error; at the end the three children are identical block for block
 * and every acknowledged write reads back.
 */
class NexusThreeEnginesTest {
    static final long MiB = 1 << 20;
    static final long SIZE = 64 * MiB;
    /** The workload's hot region: a quarter of the volume, so a short absence leaves most segments clean. */
    static final long REGION = 16 * MiB;
    static final String NODE1_NQN = "nqn.2019-05.io.javastor:node-name:node-1";

    @Test
    void survivesKillNineRebuildsPartiallyAndFullyWithZeroApplicationErrors(@TempDir Path tmp) throws Exception {
        List<IoEngineProcess> engines = new ArrayList<>();
        List<BlockDevice> opened = new ArrayList<>();
        try {
            IoEngineProcess n1 = engine(engines, tmp, "node-1");
            IoEngineProcess n2 = engine(engines, tmp, "node-2");
            IoEngineProcess n3 = engine(engines, tmp, "node-3", "b");
            String r1 = replica(n1, "p-node-1", false);
            String r2 = replica(n2, "p-node-2", true);
            String r3 = replica(n3, "p-node-3", true);
            String nexusId = UUID.randomUUID().toString();
            CreateNexusRequest create = CreateNexusRequest.newBuilder().setUuid(nexusId).setSize(SIZE)
                    .addChildren(r1).addChildren(r2).addChildren(r3).build();
            Nexus created = n1.api().nexuses().createNexus(create);
            assertThat(created.getState()).isEqualTo(NexusState.NEXUS_STATE_ONLINE);
            assertThat(n1.api().nexuses().createNexus(create).getUuid()).as("idempotent").isEqualTo(nexusId);
            assertThatThrownBy(() -> n1.api().nexuses().createNexus(create.toBuilder().setSize(SIZE / 2).build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS));
            Nexus published = n1.api().nexuses().publishNexus(PublishNexusRequest.newBuilder().setUuid(nexusId)
                    .setProtocol(ShareProtocol.SHARE_PROTOCOL_NVMF).addAllowedHosts("nqn.2019-05.io.javastor:node-name:app").build());
            assertThat(published.getDeviceUri()).endsWith("/nqn.2019-05.io.javastor:" + nexusId);

            NvmfBlockDevice app = NvmfBlockDevice.connect(published.getDeviceUri(),
                    NvmfHostOptions.defaults("nqn.2019-05.io.javastor:node-name:app").withQueues(2, 128));
            opened.add(app);
            VerifyingWorkload load = new VerifyingWorkload(app, REGION, 8).start();
            await("workload under way").atMost(Duration.ofSeconds(30)).until(() -> load.writes() > 2000);

            // (a) node-2 dies
            n2.kill9();
            await("node-2's child faulted").atMost(Duration.ofSeconds(30)).until(() -> childState(n1, nexusId, r2) == ChildState.CHILD_STATE_FAULTED);
            assertThat(nexus(n1, nexusId).getState()).isEqualTo(NexusState.NEXUS_STATE_DEGRADED);
            long before = load.writes();
            await("writes continue on two children").atMost(Duration.ofSeconds(30)).until(() -> load.writes() > before + 2000);
            assertThat(load.errors).as("application errors after kill -9").isEmpty();

            // (b) node-2 comes back with its pool; its replica is shared again and re-added. Its engine was killed, so
            // what it had acknowledged may be gone (a new instance of the replica): a full rebuild, not a partial one.
            n2.start();
            assertThat(n2.api().replicas().listReplicas(io.javastor.api.ioengine.v1.ListReplicasRequest.getDefaultInstance()).getReplicasList())
                    .extracting(io.javastor.api.ioengine.v1.Replica::getUri).isNotEmpty();
            assertThat(share(n2, uuidOf(r2))).isEqualTo(r2);
            n1.api().nexuses().addChildNexus(AddChildNexusRequest.newBuilder().setUuid(nexusId).setUri(r2).build());
            await("rebuild of node-2's restarted child").atMost(Duration.ofSeconds(120))
                    .until(() -> childState(n1, nexusId, r2) == ChildState.CHILD_STATE_ONLINE);
            RebuildStats restarted = n1.api().nexuses().getRebuildStats(RebuildRequest.newBuilder().setUuid(nexusId).setUri(r2).build());
            assertThat(restarted.getState()).isEqualTo(RebuildState.REBUILD_STATE_COMPLETED);
            assertThat(restarted.getPartial()).as("a child whose engine restarted is rebuilt in full").isFalse();

            // (b2) node-3's child is faulted while its engine keeps running, then re-added: the same instance, so only
            // what was written while it was away is copied (a partial rebuild).
            n1.api().nexuses().faultNexusChild(io.javastor.api.ioengine.v1.FaultNexusChildRequest.newBuilder().setUuid(nexusId).setUri(r3).build());
            long whileAway = load.writes();
            await("writes while node-3's child is away").atMost(Duration.ofSeconds(30)).until(() -> load.writes() > whileAway + 500);
            n1.api().nexuses().addChildNexus(AddChildNexusRequest.newBuilder().setUuid(nexusId).setUri(r3).build());
            await("partial rebuild of node-3's child").atMost(Duration.ofSeconds(90))
                    .until(() -> childState(n1, nexusId, r3) == ChildState.CHILD_STATE_ONLINE);
            RebuildStats partial = n1.api().nexuses().getRebuildStats(RebuildRequest.newBuilder().setUuid(nexusId).setUri(r3).build());
            assertThat(partial.getState()).isEqualTo(RebuildState.REBUILD_STATE_COMPLETED);
            assertThat(partial.getPartial()).isTrue();
            assertThat(partial.getBlocksTotal() * partial.getBlockSize()).as("only what was written while away: within the hot region")
                    .isPositive().isLessThanOrEqualTo(REGION);
            assertThat(partial.getBlocksRecovered()).isEqualTo(partial.getBlocksTotal());
            assertThat(load.errors).as("application errors during the partial rebuild").isEmpty();

            // (c) node-3's replica is replaced by a fresh one on its other pool: full rebuild
            String r4 = replica(n3, "p-node-3b", true);
            n1.api().nexuses().removeChildNexus(RemoveChildNexusRequest.newBuilder().setUuid(nexusId).setUri(r3).build());
            n1.api().nexuses().addChildNexus(AddChildNexusRequest.newBuilder().setUuid(nexusId).setUri(r4).build());
            await("full rebuild of the fresh child").atMost(Duration.ofSeconds(120))
                    .until(() -> childState(n1, nexusId, r4) == ChildState.CHILD_STATE_ONLINE);
            long afterRebuild = load.writes();
            await("writes on the three children").atMost(Duration.ofSeconds(30)).until(() -> load.writes() > afterRebuild + 500);
            load.stop();
            assertThat(load.errors).as("application errors in (a)-(c)").isEmpty();
            app.flush().get();

            Nexus end = nexus(n1, nexusId);
            assertThat(end.getState()).isEqualTo(NexusState.NEXUS_STATE_ONLINE);
            assertThat(end.getChildrenList()).extracting(NexusChild::getUri).containsExactlyInAnyOrder(r1, r2, r4);
            List<RebuildStats> history = n1.api().nexuses().getRebuildHistory(RebuildHistoryRequest.newBuilder().setUuid(nexusId).build()).getRecordsList();
            assertThat(history).extracting(RebuildStats::getChildUri, RebuildStats::getPartial, RebuildStats::getState).containsExactly(
                    org.assertj.core.groups.Tuple.tuple(r2, false, RebuildState.REBUILD_STATE_COMPLETED),
                    org.assertj.core.groups.Tuple.tuple(r3, true, RebuildState.REBUILD_STATE_COMPLETED),
                    org.assertj.core.groups.Tuple.tuple(r4, false, RebuildState.REBUILD_STATE_COMPLETED));
            assertThat(history.get(2).getBlocksTotal() * history.get(2).getBlockSize()).isEqualTo(SIZE);
            assertThat(history.get(2).getSourceUri()).as("the local replica knows what is allocated").isEqualTo(r1);

            // Every acknowledged write reads back through the nexus, and from each child directly once the nexus is gone
            // (while it lives, it is the one writer of its local replica: a share of it would be refused).
            assertThat(load.verifyAll(app)).isEmpty();
            n1.api().nexuses().unpublishNexus(UnpublishNexusRequest.newBuilder().setUuid(nexusId).build());
            n1.api().nexuses().destroyNexus(DestroyNexusRequest.newBuilder().setUuid(nexusId).build());
            assertThat(n1.api().nexuses().listNexus(ListNexusRequest.getDefaultInstance()).getNexusListList()).isEmpty();
            share(n1, uuidOf(r1));
            NvmfHostOptions asNode1 = NvmfHostOptions.defaults(NODE1_NQN).withQueues(1, 64);
            List<BlockDevice> children = new ArrayList<>();
            for (String uri : List.of(nvmfUriOf(n1, uuidOf(r1)), r2, r4)) {
                NvmfBlockDevice d = NvmfBlockDevice.connect(uri, asNode1);
                opened.add(d);
                children.add(d);
            }
            for (BlockDevice c : children) {
                assertThat(load.verifyAll(c)).as("acknowledged writes on %s", c.uri()).isEmpty();
            }
            NexusTest.assertIdentical(children.get(0), children.get(1), SIZE);
            NexusTest.assertIdentical(children.get(0), children.get(2), SIZE);
        } finally {
            for (BlockDevice d : opened) {
                d.close();
            }
            for (IoEngineProcess e : engines) {
                e.close();
            }
        }
    }

    private static IoEngineProcess engine(List<IoEngineProcess> engines, Path tmp, String node, String... extraPools) throws Exception {
        List<String> disks = new ArrayList<>(List.of(disk(tmp, node, "")));
        for (String p : extraPools) {
            disks.add(disk(tmp, node, p));
        }
        IoEngineProcess e = IoEngineProcess.fromClasspath(node, disks, tmp.resolve(node + ".log"),
                List.of("--javastor.io-engine.nvmf.port=" + FreePorts.next(), "--javastor.io-engine.nexus.io-timeout=5s"));
        engines.add(e);
        e.start();
        for (int i = 0; i < disks.size(); i++) {
            e.api().pools().createPool(CreatePoolRequest.newBuilder().setName("p-" + node + (i == 0 ? "" : extraPools[i - 1]))
                    .addDisks(disks.get(i)).setClusterSize(MiB).build());
        }
        return e;
    }

    private static String disk(Path tmp, String node, String suffix) {
        return "uring://" + tmp.resolve(node + suffix + ".img") + "?size_mb=160";
    }

    /** Creates a thin replica; a remote one is shared to node-1 only and its nvmf URI returned, a local one's bdev URI. */
    private static String replica(IoEngineProcess e, String pool, boolean remote) {
        String id = UUID.randomUUID().toString();
        io.javastor.api.ioengine.v1.Replica r = e.api().replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(id).setPool(pool)
                .setSize(SIZE).setThin(true).build());
        return remote ? share(e, id) : r.getUri();
    }

    private static String share(IoEngineProcess e, String id) {
        return e.api().replicas().shareReplica(ShareReplicaRequest.newBuilder().setUuid(id).setProtocol(ShareProtocol.SHARE_PROTOCOL_NVMF)
                .addAllowedHosts(NODE1_NQN).build()).getUri();
    }

    private static String nvmfUriOf(IoEngineProcess e, String id) {
        return share(e, id);
    }

    private static String uuidOf(String childUri) {
        return childUri.substring(childUri.length() - 36);
    }

    private static Nexus nexus(IoEngineProcess e, String id) {
        return e.api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(id).build()).getNexusList(0);
    }

    private static ChildState childState(IoEngineProcess e, String nexusId, String uri) {
        return nexus(e, nexusId).getChildrenList().stream().filter(c -> c.getUri().equals(uri)).findFirst()
                .map(NexusChild::getState).orElse(ChildState.CHILD_STATE_UNKNOWN);
    }
}
