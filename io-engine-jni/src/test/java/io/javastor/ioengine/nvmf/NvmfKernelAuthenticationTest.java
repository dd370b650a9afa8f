package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.nvmf.auth.DhchapKeys;
import io.javastor.ioengine.nvmf.auth.DhchapSecret;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.nvmf.tgt.NvmfTargetOptions;
import io.javastor.ioengine.process.LinuxNvmeVm;
import io.javastor.ioengine.reservation.NamespaceReservations;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Linux kernel's NVMe/TCP host (6.12 under QEMU: Debian 12's 6.1 has no in-band authentication) against our
 * target with DH-HMAC-CHAP: `nvme connect --dhchap-secret` one way and with `--dhchap-ctrl-secret` both ways, and a
 * wrong secret, none, or a wrong controller secret refused (src/test/vm/guest-dhchap.sh). Run with
 * {@code -Djavastor.vm=true}; it listens on the fixed port 8421 that the VM forwards as 10.0.2.100:8421.
 */
@Tag("vm")
@EnabledIfSystemProperty(named = "javastor.vm", matches = "true", disabledReason = "kernel DH-HMAC-CHAP VM test: run with -Djavastor.vm=true")
class NvmfKernelAuthenticationTest {
    static final int PORT = 8421;

    @Test
    void linuxHostAuthenticatesWithDhchapAndWrongSecretsAreRefused(@TempDir Path tmp) throws Exception {
        Path cache = LinuxNvmeVm.authKernel();
        SecureRandom random = new SecureRandom();
        DhchapSecret host = DhchapSecret.generate(random);
        DhchapSecret controller = DhchapSecret.generate(random);
        String nqn = "nqn.2019-05.io.javastor:" + UUID.randomUUID();
        String hostNqn = "nqn.2014-08.org.nvmexpress:uuid:" + UUID.randomUUID();
        try (BlockDeviceFactory factory = BlockDeviceFactory.withDefaults()) {
            BlockDevice disk = factory.open("uring://" + tmp.resolve("disk.img") + "?size_mb=64");
            NvmfTarget target = new NvmfTarget(NvmfTargetOptions.defaults().withAdvertisedAddress(LinuxNvmeVm.HOST_FROM_GUEST));
            try {
                target.start("127.0.0.1", PORT);
                target.addSubsystem(nqn, disk, "JSAUTH01", "Javastor auth", Set.of(hostNqn), NamespaceReservations.inMemory(nqn),
                        Map.of(hostNqn, new DhchapKeys(host, controller)));
                io.javastor.testsupport.LinuxVm.Result vm = LinuxNvmeVm.run(tmp, cache, Path.of("src/test/vm/guest-dhchap.sh"), LinuxNvmeVm.HOST_FROM_GUEST,
                        Integer.toString(PORT), nqn, hostNqn, host.text(), controller.text(), DhchapSecret.generate(random).text());
                assertThat(vm.exited()).as("VM finished within 300 s").isTrue();
                assertThat(vm.output().lines()).as("guest-dhchap.sh output").contains("PASS");
                assertThat(vm.exitCode()).isZero();
            } finally {
                target.close();
                disk.close();
            }
        }
    }
}
