package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.nvmf.target.NvmfTarget;
import io.javastor.ioengine.nvmf.target.NvmfTargetOptions;
import io.javastor.ioengine.pool.Pool;
import io.javastor.ioengine.replica.Replica;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

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
    static final Path VM_TOOLS = Path.of(System.getProperty("javastor.vm.tools", "/work/shared/tools/linux-nvme-vm"));

    @Test
    void linuxKernelInitiatorConnectsIdentifiesAndVerifiesData(@TempDir Path tmp) throws Exception {
        Path runVm = VM_TOOLS.resolve("run-vm.sh");
        Assumptions.assumeTrue(Files.isExecutable(runVm), "skipped: " + runVm + " not found");
        boolean qemu = Files.isExecutable(Path.of("/usr/bin/qemu-system-x86_64"));
        boolean root = "root".equals(System.getProperty("user.name"));
        Assumptions.assumeTrue(qemu || root, "skipped: QEMU is not installed and we are not root to install it");

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
                Path share = Files.createDirectories(tmp.resolve("share"));
                ProcessBuilder pb = new ProcessBuilder("bash", runVm.toString(), VM_TOOLS.resolve("guest-connect.sh").toString(),
                        "10.0.2.100", Integer.toString(NvmfTargetOptions.DEFAULT_PORT), nqn, "3")
                        .redirectErrorStream(true).redirectOutput(tmp.resolve("vm.log").toFile());
                pb.environment().put("VM_SHARE", share.toString());
                Process p = pb.start();
                boolean exited = p.waitFor(240, TimeUnit.SECONDS);
                if (!exited) {
                    p.destroyForcibly();
                }
                String out = Files.readString(tmp.resolve("vm.log"), StandardCharsets.UTF_8);
                System.out.println("---- VM output ----\n" + out + "\n---- console ----\n" + console(share));
                assertThat(exited).as("VM finished within 240 s").isTrue();
                assertThat(out.lines()).as("guest-connect.sh output").contains("PASS");
                assertThat(p.exitValue()).isZero();
            } finally {
                target.close();
                pool.close();
            }
        }
    }

    private static String console(Path share) throws IOException {
        Path c = share.resolve("console.log");
        if (!Files.exists(c)) {
            return "(none)";
        }
        String s = Files.readString(c, StandardCharsets.ISO_8859_1);
        return s.length() > 6000 ? s.substring(s.length() - 6000) : s;
    }
}
