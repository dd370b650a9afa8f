package io.javastor.ioengine.nexus;

import io.javastor.api.ioengine.v1.CreateNexusRequest;
import io.javastor.api.ioengine.v1.CreatePoolRequest;
import io.javastor.api.ioengine.v1.CreateReplicaRequest;
import io.javastor.api.ioengine.v1.ListNexusRequest;
import io.javastor.api.ioengine.v1.Nexus;
import io.javastor.api.ioengine.v1.NexusState;
import io.javastor.api.ioengine.v1.PublishNexusRequest;
import io.javastor.api.ioengine.v1.ShareProtocol;
import io.javastor.testsupport.IoEngineProcess;
import io.javastor.ioengine.process.LinuxNvmeVm;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Linux kernel's NVMe/TCP initiator (Debian 6.1 under QEMU, ../shared/tools/linux-nvme-vm) against a 3-replica
 * nexus published by a real io-engine: guest-connect.sh (discover, connect, identify, 4 MiB data check, fio --verify)
 * must print PASS, and the nexus stays Online with its three children (no child faulted under the kernel's I/O).
 * Needs port 8420 free (the VM reaches host port 8420 as 10.0.2.100:8420). Run with -Djavastor.vm=true.
 */
@Tag("vm")
@EnabledIfSystemProperty(named = "javastor.vm", matches = "true", disabledReason = "kernel initiator VM test: run with -Djavastor.vm=true (./javastor test does)")
class NexusKernelInitiatorTest {

    @Test
    void kernelInitiatorVerifiesDataOnAPublishedThreeReplicaNexus(@TempDir Path tmp) throws Exception {
        LinuxNvmeVm.tools(); // skips, saying why, without the harness

        try (IoEngineProcess engine = IoEngineProcess.fromClasspath("node-vm", List.of(), tmp.resolve("engine.log"),
                List.of("--javastor.io-engine.nvmf.port=8420", "--javastor.io-engine.nvmf.advertised-address=10.0.2.100")).start()) {
            CreateNexusRequest.Builder create = CreateNexusRequest.newBuilder().setUuid(UUID.randomUUID().toString()).setSize(96L << 20);
            for (int i = 1; i <= 3; i++) {
                engine.api().pools().createPool(CreatePoolRequest.newBuilder().setName("vm" + i)
                        .addDisks("uring://" + tmp.resolve("pool" + i + ".img") + "?size_mb=160").build());
                create.addChildren(engine.api().replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(UUID.randomUUID().toString())
                        .setPool("vm" + i).setSize(96L << 20).setThin(true).build()).getUri());
            }
            String id = engine.api().nexuses().createNexus(create.build()).getUuid();
            Nexus published = engine.api().nexuses().publishNexus(PublishNexusRequest.newBuilder().setUuid(id)
                    .setProtocol(ShareProtocol.SHARE_PROTOCOL_NVMF).build());
            String nqn = "nqn.2019-05.io.javastor:" + id;
            assertThat(published.getDeviceUri()).isEqualTo("nvmf://10.0.2.100:8420/" + nqn);

            io.javastor.testsupport.LinuxVm.Result vm = LinuxNvmeVm.guestConnect(tmp, 8420, nqn);
            assertThat(vm.exited()).as("VM finished within 300 s").isTrue();
            assertThat(vm.output().lines()).as("guest-connect.sh output").contains("PASS");
            assertThat(vm.exitCode()).isZero();
            Nexus after = engine.api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(id).build()).getNexusList(0);
            assertThat(after.getState()).as("no child faulted under the kernel's I/O").isEqualTo(NexusState.NEXUS_STATE_ONLINE);
            assertThat(after.getChildrenCount()).isEqualTo(3);
        }
    }
}
