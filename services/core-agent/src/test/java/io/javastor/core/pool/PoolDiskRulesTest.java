package io.javastor.core.pool;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.ioengine.v1.BlockDevice;
import io.javastor.api.core.v1.CreatePoolRequest;
import io.javastor.api.core.v1.GetPoolRequest;
import io.javastor.api.core.v1.ListBlockDevicesRequest;
import io.javastor.api.core.v1.NodeServiceGrpc;
import io.javastor.api.core.v1.PoolServiceGrpc;
import io.javastor.api.core.v1.PoolStatus;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.core.testsupport.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Pools only on allowed, unused disks, through the core agent (issue 16): a refused create leaves no spec and an
 * unchanged disk; erase_existing is the explicit way past a signature; the node's block devices are listed with why a
 * pool can or cannot go on each.
 */
class PoolDiskRulesTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();
    private static TestCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(etcd.endpoint(), new TestCluster.Settings("pool-disk-rules", "agent-pool-disk-rules", Map.of(), 1, 64, Map.of()));
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static PoolServiceGrpc.PoolServiceBlockingStub pools() {
        return PoolServiceGrpc.newBlockingStub(cluster.agent().channel());
    }

    @Test
    void aDiskWithAFilesystemIsRefusedLeavingNoSpecUntilTheRequestSaysToEraseIt() throws Exception {
        Path disk = cluster.dir().resolve("formatted.img");
        try (RandomAccessFile raf = new RandomAccessFile(disk.toFile(), "rw")) {
            raf.setLength(64L << 20);
        }
        Process mkfs = new ProcessBuilder("mkfs.ext4", "-q", "-F", disk.toString()).redirectErrorStream(true).start();
        assumeTrue(mkfs.waitFor(60, TimeUnit.SECONDS) && mkfs.exitValue() == 0, "skipped: mkfs.ext4 (e2fsprogs) is not available");
        String before = sha256(disk);
        CreatePoolRequest create = CreatePoolRequest.newBuilder().setId("formatted").setNodeId("node-1").addDisks("uring://" + disk).build();

        assertThatThrownBy(() -> pools().createPool(create)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
            assertThat(e.getStatus().getDescription()).contains("holds an ext2/3/4 filesystem").contains("erase_existing");
        });
        assertThatThrownBy(() -> pools().getPool(GetPoolRequest.newBuilder().setId("formatted").build()))
                .as("no spec left by the refused create").isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        assertThat(sha256(disk)).as("the disk after the refused create").isEqualTo(before);

        pools().createPool(create.toBuilder().setEraseExisting(true).build());
        await("pool Online").atMost(Duration.ofSeconds(30)).until(() ->
                pools().getPool(GetPoolRequest.newBuilder().setId("formatted").build()).getStatus() == PoolStatus.POOL_STATUS_ONLINE);
    }

    @Test
    void aDiskOffTheNodesAllowListIsRefusedNamingTheList() {
        assertThatThrownBy(() -> pools().createPool(CreatePoolRequest.newBuilder().setId("sneaky").setNodeId("node-1")
                .addDisks("uring:///etc/hostname").build())).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("not on this engine's disk allow-list");
                });
        assertThatThrownBy(() -> pools().getPool(GetPoolRequest.newBuilder().setId("sneaky").build()))
                .isInstanceOf(StatusRuntimeException.class);
    }

    @Test
    void theNodesBlockDevicesAreListedWithWhyEachCanOrCannotTakeAPool() {
        var nodes = NodeServiceGrpc.newBlockingStub(cluster.agent().channel());
        assertThatThrownBy(() -> nodes.listBlockDevices(ListBlockDevicesRequest.newBuilder().setNodeId("ghost").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).contains("ghost");
                });
        List<BlockDevice> all = nodes.listBlockDevices(ListBlockDevicesRequest.newBuilder().setNodeId("node-1").setAll(true).build())
                .getDevicesList();
        assumeTrue(Files.isDirectory(Path.of("/sys/block")), "skipped: this machine has no /sys/block to list");
        assertThat(all).as("the block devices of this machine").isNotEmpty().allSatisfy(d -> {
            assertThat(d.getDevname()).startsWith("/dev/");
            assertThat(d.getSize()).isPositive();
            assertThat(d.getAvailable() || !d.getReason().isEmpty()).as("%s: unavailable says why", d.getDevname()).isTrue();
        });
        // The test engine allows pools only in the temporary folder: no device of this machine is available to it.
        assertThat(nodes.listBlockDevices(ListBlockDevicesRequest.newBuilder().setNodeId("node-1").build()).getDevicesList()).isEmpty();
    }

    private static String sha256(Path f) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
    }
}
