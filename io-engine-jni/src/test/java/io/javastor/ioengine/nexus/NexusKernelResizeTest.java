package io.javastor.ioengine.nexus;

import io.javastor.api.ioengine.v1.CreateNexusRequest;
import io.javastor.api.ioengine.v1.CreatePoolRequest;
import io.javastor.api.ioengine.v1.CreateReplicaRequest;
import io.javastor.api.ioengine.v1.ListNexusRequest;
import io.javastor.api.ioengine.v1.Nexus;
import io.javastor.api.ioengine.v1.NexusState;
import io.javastor.api.ioengine.v1.PublishNexusRequest;
import io.javastor.api.ioengine.v1.ResizeNexusRequest;
import io.javastor.api.ioengine.v1.ResizeReplicaRequest;
import io.javastor.api.ioengine.v1.ShareProtocol;
import io.javastor.testsupport.IoEngineProcess;
import io.javastor.testsupport.LinuxVm;
import io.javastor.ioengine.process.LinuxNvmeVm;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The Linux kernel's NVMe/TCP initiator (Debian 6.1 under QEMU, ../shared/tools/linux-nvme-vm) connected to a published
 * 3-replica nexus, which the host then grows (ResizeReplica on each replica, then ResizeNexus): guest-resize.sh checks
 * that {@code /sys/block/nvmeXnY/size} reaches the new size without a rescan or a reconnect (the target's Namespace
 * Attribute Changed notice), and that the grown range takes data. Uses host port 8420 (forwarded into the VM;
 * -Djavastor.ioengine.vm.port changes it to another forwarded one, 8420-8424). Run with -Djavastor.vm=true.
 */
@Tag("vm")
@EnabledIfSystemProperty(named = "javastor.vm", matches = "true", disabledReason = "kernel initiator VM test: run with -Djavastor.vm=true (./javastor test does)")
class NexusKernelResizeTest {
    static final int VM_PORT = Integer.getInteger("javastor.ioengine.vm.port", 8420);
    static final long FROM = 64L << 20;
    static final long TO = 112L << 20;

    @Test
    void theKernelSeesAPublishedNexusGrowWithoutReconnecting(@TempDir Path tmp) throws Exception {
        LinuxNvmeVm.tools(); // skips, saying why, without the harness
        try (IoEngineProcess engine = IoEngineProcess.fromClasspath("node-vm-resize", List.of(), tmp.resolve("engine.log"),
                List.of("--javastor.io-engine.nvmf.port=" + VM_PORT, "--javastor.io-engine.nvmf.advertised-address=10.0.2.100")).start()) {
            CreateNexusRequest.Builder create = CreateNexusRequest.newBuilder().setUuid(UUID.randomUUID().toString()).setSize(FROM);
            List<String> replicas = new ArrayList<>();
            for (int i = 1; i <= 3; i++) {
                engine.api().pools().createPool(CreatePoolRequest.newBuilder().setName("vm" + i)
                        .addDisks("uring://" + tmp.resolve("pool" + i + ".img") + "?size_mb=160").build());
                var r = engine.api().replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(UUID.randomUUID().toString())
                        .setPool("vm" + i).setSize(FROM).setThin(true).build());
                replicas.add(r.getUuid());
                create.addChildren(r.getUri());
            }
            String id = engine.api().nexuses().createNexus(create.build()).getUuid();
            engine.api().nexuses().publishNexus(PublishNexusRequest.newBuilder().setUuid(id).setProtocol(ShareProtocol.SHARE_PROTOCOL_NVMF).build());
            String nqn = "nqn.2019-05.io.javastor:" + id;

            LinuxVm vm = LinuxVm.resource(tmp, NexusKernelResizeTest.class, "/vm/guest-resize.sh",
                    LinuxNvmeVm.HOST_FROM_GUEST, Integer.toString(VM_PORT), nqn, Long.toString(TO)).hostPorts(VM_PORT).start();
            Path share = vm.share();
            boolean resized = false;
            try {
                await("guest connected (or VM ended)").atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(500))
                        .until(() -> Files.exists(share.resolve("connected")) || !vm.isAlive());
                if (Files.exists(share.resolve("connected"))) {
                    for (String r : replicas) {
                        engine.api().replicas().resizeReplica(ResizeReplicaRequest.newBuilder().setUuid(r).setRequestedSize(TO).build());
                    }
                    Nexus grown = engine.api().nexuses().resizeNexus(ResizeNexusRequest.newBuilder().setUuid(id).setRequestedSize(TO).build());
                    assertThat(grown.getSize()).isEqualTo(TO);
                    Files.writeString(share.resolve("resized"), "resized");
                    resized = true;
                }
                assertThat(vm.waitFor(10, TimeUnit.MINUTES)).as("VM finished").isTrue();
            } finally {
                vm.close();
                System.out.println("---- VM output ----\n" + vm.output());
            }
            String out = vm.output();
            assertThat(resized).as("the guest connected").isTrue();
            assertThat(out.lines()).as("guest-resize.sh output").contains("PASS");
            assertThat(vm.exitValue()).isZero();
            Nexus after = engine.api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(id).build()).getNexusList(0);
            assertThat(after.getState()).isEqualTo(NexusState.NEXUS_STATE_ONLINE);
            assertThat(after.getSize()).isEqualTo(TO);
        }
    }
}
