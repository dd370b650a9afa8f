package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.nvmf.tgt.NvmfTargetOptions;
import io.javastor.ioengine.pool.Pool;
import io.javastor.ioengine.process.LinuxNvmeVm;
import io.javastor.ioengine.replica.Replica;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Linux kernel's own NVMe/TCP initiator (Debian 6.1 under QEMU) against our target exporting a replica:
 * nvme discover / connect / identify, a 4 MiB data check and fio --verify, via
 * /work/shared/tools/linux-nvme-vm/guest-connect.sh. Run with {@code -Djavastor.vm=true}
 * (about 1-2 minutes); it listens on the fixed port 8420 that the VM forwards as 10.0.2.100:8420.
 */
@Tag("vm")
@EnabledIfSystemProperty(named = "javastor.vm", matches = "true", disabledReason = "kernel initiator VM test: run with -Djavastor.vm=true")
class NvmfKernelInitiatorTest {

    @Test
    void linuxKernelInitiatorConnectsIdentifiesAndVerifiesData(@TempDir Path tmp) throws Exception {
        LinuxNvmeVm.tools(); // skips, saying why, without the harness

        String nqn = "nqn.2019-05.io.javastor:" + UUID.randomUUID();
        try (BlockDeviceFactory factory = BlockDeviceFactory.withDefaults()) {
            String diskUri = "uring://" + tmp.resolve("pool.img") + "?size_mb=256";
            BlockDevice disk = factory.open(diskUri);
            Pool pool = Pool.create(diskUri, disk, "vm-pool", 4 << 20, 2.5);
            Replica replica = pool.createReplica(UUID.randomUUID(), "vm-replica", 128L << 20, false);
            NvmfTarget target = new NvmfTarget(NvmfTargetOptions.defaults().withAdvertisedAddress("10.0.2.100"));
            try {
                target.start("127.0.0.1", NvmfTargetOptions.DEFAULT_PORT);
                target.addSubsystem(nqn, replica, "JSVM0001", "Javastor replica", Set.of());
                io.javastor.testsupport.LinuxVm.Result vm = LinuxNvmeVm.guestConnect(tmp, NvmfTargetOptions.DEFAULT_PORT, nqn);
                assertThat(vm.exited()).as("VM finished within 300 s").isTrue();
                assertThat(vm.output().lines()).as("guest-connect.sh output").contains("PASS");
                assertThat(vm.exitCode()).isZero();
            } finally {
                target.close();
                pool.close();
            }
        }
    }
}
