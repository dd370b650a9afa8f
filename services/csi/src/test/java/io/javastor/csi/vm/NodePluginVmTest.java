package io.javastor.csi.vm;

import io.javastor.api.ioengine.v1.CreateNexusRequest;
import io.javastor.api.ioengine.v1.CreatePoolRequest;
import io.javastor.api.ioengine.v1.CreateReplicaRequest;
import io.javastor.api.ioengine.v1.ListNexusRequest;
import io.javastor.api.ioengine.v1.Nexus;
import io.javastor.api.ioengine.v1.NexusState;
import io.javastor.api.ioengine.v1.PublishNexusRequest;
import io.javastor.api.ioengine.v1.Replica;
import io.javastor.api.ioengine.v1.ResizeReplicaRequest;
import io.javastor.api.ioengine.v1.ShareProtocol;
import io.javastor.api.ioengine.v1.ShareReplicaRequest;
import io.javastor.csi.support.EngineProcess;
import io.javastor.csi.support.FreePort;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
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
 * The node plugin inside the Linux VM (../shared/tools/linux-nvme-vm; the host kernel has no nvme-tcp), against a real
 * 3-replica nexus published by real io-engines on the host. The guest runs the plugin and {@link GuestNodeDriver}, which
 * stages the volume as ext4, publishes, writes, unpublishes, unstages, stages again and reads back; publishes it raw;
 * grows a volume after the host resizes it; checks stats, including the abnormal condition once the device is gone.
 * The nexus cannot be resized yet (the io-engine has no ResizeNexus), so expansion runs on a replica the engine shares
 * over NVMe-oF directly (ResizeReplica), through the same node plugin code path (rescan, resize2fs).
 * Uses host port 8424 (forwarded into the VM; -Djavastor.csi.vm.port to change). Run with -Djavastor.vm=true.
 */
@Tag("vm")
@EnabledIfSystemProperty(named = "javastor.vm", matches = "true", disabledReason = "CSI node VM test: run with -Djavastor.vm=true (./javastor test does)")
class NodePluginVmTest {
    /** A port the VM forwards; 8420-8422 are the local cluster's and other VM tests', so 8424 unless told. */
    static final int VM_PORT = Integer.getInteger("javastor.csi.vm.port", 8424);
    static final long MIB = 1L << 20;
    static final long NEXUS_SIZE = 96 * MIB;
    static final long GROW_FROM = 64 * MIB;
    static final long GROW_TO = 160 * MIB;
    static final List<String> SCENARIOS = List.of("ext4-stage-publish-write-restage-read", "raw-block-publish-write-read",
            "expand-after-resize-and-stats", "stats-abnormal-when-device-gone-then-cleanup");

    @Test
    void nodePluginStagesPublishesExpandsAndReportsStatsInTheVm(@TempDir Path tmp) throws Exception {
        Path tools = Path.of(System.getProperty("javastor.vm.tools", "../../../shared/tools/linux-nvme-vm")).toAbsolutePath().normalize();
        Path runVm = tools.resolve("run-vm.sh");
        Assumptions.assumeTrue(Files.isReadable(runVm), "skipped: VM harness " + runVm + " not found");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/qemu-system-x86_64")) || "root".equals(System.getProperty("user.name")),
                "skipped: QEMU is not installed and we are not root to install it");

        List<EngineProcess> engines = new ArrayList<>();
        try {
            EngineProcess e1 = engine(engines, tmp, "vm-node-1", "--javastor.io-engine.nvmf.port=" + VM_PORT,
                    "--javastor.io-engine.nvmf.advertised-address=10.0.2.100");
            EngineProcess e2 = engine(engines, tmp, "vm-node-2");
            EngineProcess e3 = engine(engines, tmp, "vm-node-3");
            String nexusId = UUID.randomUUID().toString();
            CreateNexusRequest.Builder create = CreateNexusRequest.newBuilder().setUuid(nexusId).setSize(NEXUS_SIZE);
            int i = 0;
            for (EngineProcess e : List.of(e1, e2, e3)) {
                String pool = "p" + (++i);
                e.api().createPool(CreatePoolRequest.newBuilder().setName(pool).addDisks("uring://" + tmp.resolve(pool + ".img") + "?size_mb=160").build());
                Replica r = e.api().createReplica(CreateReplicaRequest.newBuilder().setUuid(UUID.randomUUID().toString()).setPool(pool)
                        .setSize(NEXUS_SIZE).setThin(true).build());
                create.addChildren(e == e1 ? r.getUri() : e.api().shareReplica(ShareReplicaRequest.newBuilder().setUuid(r.getUuid())
                        .setProtocol(ShareProtocol.SHARE_PROTOCOL_NVMF).build()).getUri());
            }
            e1.api().createNexus(create.build());
            String nexusUri = e1.api().publishNexus(PublishNexusRequest.newBuilder().setUuid(nexusId)
                    .setProtocol(ShareProtocol.SHARE_PROTOCOL_NVMF).build()).getDeviceUri();
            assertThat(nexusUri).isEqualTo("nvmf://10.0.2.100:" + VM_PORT + "/nqn.2019-05.io.javastor:" + nexusId);

            e1.api().createPool(CreatePoolRequest.newBuilder().setName("grow").addDisks("uring://" + tmp.resolve("grow.img") + "?size_mb=256").build());
            String growId = UUID.randomUUID().toString();
            e1.api().createReplica(CreateReplicaRequest.newBuilder().setUuid(growId).setPool("grow").setSize(GROW_FROM).setThin(false).build());
            String growUri = e1.api().shareReplica(ShareReplicaRequest.newBuilder().setUuid(growId)
                    .setProtocol(ShareProtocol.SHARE_PROTOCOL_NVMF).build()).getUri();

            Path share = Files.createDirectories(tmp.resolve("share"));
            Files.writeString(share.resolve("java.txt"), EngineProcess.java());
            Files.writeString(share.resolve("classpath.txt"), EngineProcess.classpath());
            Files.writeString(share.resolve("args.txt"), String.join(" ", nexusUri, nexusId, growUri, growId, Long.toString(GROW_TO)));
            Path hostDir = Files.createDirectories(tmp.resolve("host"));
            Path modules = hostDir.resolve("guest-fs-modules.sh");
            try (InputStream in = NodePluginVmTest.class.getResourceAsStream("/vm/guest-fs-modules.sh")) {
                Files.write(modules, in.readAllBytes());
            }
            Process fetch = new ProcessBuilder("bash", modules.toString(), share.resolve("modules").toString()).redirectErrorStream(true)
                    .redirectOutput(hostDir.resolve("modules.log").toFile()).start();
            assertThat(fetch.waitFor(10, TimeUnit.MINUTES)).as("guest filesystem modules extracted").isTrue();
            assertThat(fetch.exitValue()).as(read(hostDir.resolve("modules.log"))).isZero();
            Path guestDir = Files.createDirectories(tmp.resolve("guest"));
            Path script = guestDir.resolve("csi-node-guest.sh");
            try (InputStream in = NodePluginVmTest.class.getResourceAsStream("/vm/csi-node-guest.sh")) {
                Files.write(script, in.readAllBytes());
            }
            ProcessBuilder pb = new ProcessBuilder("bash", runVm.toString(), script.toString()).redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("vm.log").toFile());
            pb.environment().put("VM_SHARE", share.toString());
            pb.environment().put("VM_HOST_PORTS", Integer.toString(VM_PORT));
            pb.environment().put("VM_TIMEOUT_S", "1700");
            pb.environment().put("VM_MEM_MB", "2048");
            Process vm = pb.start();
            boolean resized = false;
            try {
                await("guest ready for the resize (or VM ended)").atMost(Duration.ofMinutes(25)).pollInterval(Duration.ofSeconds(1))
                        .until(() -> Files.exists(share.resolve("expand-ready")) || !vm.isAlive());
                if (Files.exists(share.resolve("expand-ready"))) {
                    Replica grown = e1.api().resizeReplica(ResizeReplicaRequest.newBuilder().setUuid(growId).setRequestedSize(GROW_TO).build());
                    assertThat(grown.getSize()).isGreaterThanOrEqualTo(GROW_TO);
                    Files.writeString(share.resolve("expand-done"), "done");
                    resized = true;
                }
                assertThat(vm.waitFor(30, TimeUnit.MINUTES)).as("VM finished").isTrue();
            } finally {
                if (vm.isAlive()) {
                    vm.destroyForcibly().waitFor();
                }
                System.out.println("---- VM output ----\n" + read(tmp.resolve("vm.log")) + "\n---- driver.log ----\n" + read(share.resolve("driver.log"))
                        + "\n---- plugin.log (tail) ----\n" + tail(share.resolve("plugin.log")) + "\n---- console (tail) ----\n" + tail(share.resolve("console.log")));
            }
            String results = read(share.resolve("result.txt"));
            System.out.println("---- result.txt ----\n" + results);
            assertThat(resized).as("the guest reached the resize step").isTrue();
            for (String s : SCENARIOS) {
                assertThat(results.lines()).as("scenario " + s).anyMatch(l -> l.startsWith("PASS " + s + " "));
            }
            assertThat(results).doesNotContain("FAIL");
            assertThat(vm.exitValue()).isZero();
            Nexus after = e1.api().listNexus(ListNexusRequest.newBuilder().setUuid(nexusId).build()).getNexusList(0);
            assertThat(after.getState()).as("no child faulted under the guest's I/O").isEqualTo(NexusState.NEXUS_STATE_ONLINE);
            assertThat(after.getChildrenCount()).isEqualTo(3);
        } finally {
            for (EngineProcess e : engines) {
                e.close();
            }
        }
    }

    private static EngineProcess engine(List<EngineProcess> engines, Path tmp, String node, String... args) throws IOException {
        List<String> a = new ArrayList<>(List.of(args));
        if (a.stream().noneMatch(s -> s.startsWith("--javastor.io-engine.nvmf.port="))) {
            a.add("--javastor.io-engine.nvmf.port=" + FreePort.get());
        }
        EngineProcess e = new EngineProcess(node, tmp.resolve(node + ".log"), a);
        engines.add(e);
        return e.start();
    }

    private static String read(Path f) throws IOException {
        return Files.exists(f) ? Files.readString(f, StandardCharsets.ISO_8859_1) : "(none)";
    }

    private static String tail(Path f) throws IOException {
        String s = read(f);
        return s.length() > 6000 ? s.substring(s.length() - 6000) : s;
    }
}
