package io.javastor.ioengine.process;

import io.javastor.testsupport.IoEngineProcess;

import io.javastor.api.ioengine.v1.CreatePoolRequest;
import io.javastor.api.ioengine.v1.CreateReplicaRequest;
import io.javastor.api.ioengine.v1.Replica;
import io.javastor.api.ioengine.v1.ShareProtocol;
import io.javastor.api.ioengine.v1.ShareReplicaRequest;
import io.javastor.api.ioengine.v1.UnshareReplicaRequest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Linux kernel's NVMe/TCP initiator (Debian 6.1 under QEMU, ../shared/tools/linux-nvme-vm) against a
 * replica exported by a real io-engine process through the ShareReplica gRPC call: nvme discover,
 * connect, identify, a 4 MiB data check and fio --verify (guest-connect.sh), which must print PASS.
 * Needs port 8420 free (the VM reaches host port 8420 as 10.0.2.100:8420). Run with -Djavastor.vm=true.
 */
@Tag("vm")
@EnabledIfSystemProperty(named = "javastor.vm", matches = "true", disabledReason = "kernel initiator VM test: run with -Djavastor.vm=true (./javastor test does)")
class IoEngineKernelInitiatorTest {

    @Test
    void kernelInitiatorVerifiesDataOnAReplicaSharedByARealIoEngine(@TempDir Path tmp) throws Exception {
        LinuxNvmeVm.tools(); // skips, saying why, without the harness

        String disk = "uring://" + tmp.resolve("pool.img") + "?size_mb=256";
        try (IoEngineProcess engine = IoEngineProcess.fromClasspath("node-vm", List.of(), tmp.resolve("engine.log"),
                List.of("--javastor.io-engine.nvmf.port=8420", "--javastor.io-engine.nvmf.advertised-address=10.0.2.100")).start()) {
            engine.api().pools().createPool(CreatePoolRequest.newBuilder().setName("vm").addDisks(disk).build());
            String id = UUID.randomUUID().toString();
            engine.api().replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(id).setPool("vm").setSize(128L << 20).build());
            Replica shared = engine.api().replicas().shareReplica(ShareReplicaRequest.newBuilder().setUuid(id)
                    .setProtocol(ShareProtocol.SHARE_PROTOCOL_NVMF).build());
            String nqn = "nqn.2019-05.io.javastor:" + id;
            assertThat(shared.getUri()).isEqualTo("nvmf://10.0.2.100:8420/" + nqn);
            assertThat(shared.getShare()).isEqualTo(ShareProtocol.SHARE_PROTOCOL_NVMF);

            io.javastor.testsupport.LinuxVm.Result vm = LinuxNvmeVm.guestConnect(tmp, 8420, nqn);
            assertThat(vm.exited()).as("VM finished within 300 s").isTrue();
            assertThat(vm.output().lines()).as("guest-connect.sh output").contains("PASS");
            assertThat(vm.exitCode()).isZero();

            assertThat(engine.api().replicas().unshareReplica(UnshareReplicaRequest.newBuilder().setUuid(id).build()).getShare())
                    .isEqualTo(ShareProtocol.SHARE_PROTOCOL_NONE);
        }
    }
}
