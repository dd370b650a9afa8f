package io.javastor.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.javastor.testsupport.LinuxVm;

/**
 * The Linux VM of ../shared/tools/linux-nvme-vm running one guest script in the background: the host reaches it
 * through files in the shared folder (markers both ways) and reads its output when it has finished. From the guest,
 * the host's 127.0.0.1:P is 10.0.2.100:P for P in 8420..8424 (the harness's default forwards), which covers the
 * NVMe-oF ports of node-1..node-5 of the local cluster.
 */
final class GuestVm implements AutoCloseable {
    static final String HOST_FROM_GUEST = LinuxVm.HOST_FROM_GUEST;

    private final LinuxVm vm;

    private GuestVm(LinuxVm vm) {
        this.vm = vm;
    }

    /** The harness, or a skip that says why it cannot be had. */
    static Path tools() {
        return LinuxVm.tools();
    }

    /** Boots the VM with the guest script (a test resource) and its arguments; returns at once. */
    static GuestVm start(Path workDir, String scriptResource, int timeoutSeconds, String... args) throws IOException {
        return new GuestVm(LinuxVm.resource(workDir, GuestVm.class, scriptResource, args).kernel(kernelCache())
                .timeout(Duration.ofSeconds(timeoutSeconds)).start());
    }

    /**
     * The VM cache whose kernel the guest boots: Linux 6.12, whose NVMe/TCP host has in-band authentication (volume
     * targets admit only their hosts, each with its DH-HMAC-CHAP pair). Made on first use; the test is skipped, saying
     * why, when it cannot be.
     */
    static Path kernelCache() throws IOException {
        try {
            return io.javastor.testsupport.GuestKernels.withNvmeAuthentication();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while preparing the guest kernel", e);
        }
    }

    /**
     * The guest's {@code nvme connect} options for a subsystem (host NQN and DH-HMAC-CHAP secrets), left for it in the
     * shared folder as {@code auth.NQN} (owner-only): secrets stay off command lines.
     */
    static void connectOptions(Path workDir, String nqn, String options) throws IOException {
        Path share = Files.createDirectories(workDir.resolve("share"));
        Path f = share.resolve("auth." + nqn);
        Files.deleteIfExists(f);
        Files.createFile(f, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        Files.writeString(f, options + "\n");
    }

    boolean marker(String name) {
        return vm.marker(name);
    }

    void signal(String name) throws IOException {
        vm.signal(name);
    }

    boolean alive() {
        return vm.isAlive();
    }

    /** Waits for the guest to finish; -1 if it did not in time (then it is killed). */
    int await(long seconds) throws InterruptedException {
        if (!vm.waitFor(seconds, TimeUnit.SECONDS)) {
            vm.close();
            return -1;
        }
        return vm.exitValue();
    }

    String output() throws IOException {
        return vm.output();
    }

    String consoleTail() throws IOException {
        return vm.consoleTail(6000);
    }

    /** Asks the guest script to stop (it watches for "abort"), then stops the VM if it has not in 30 s. */
    @Override
    public void close() throws Exception {
        if (vm.isAlive()) {
            signal("abort");
            vm.waitFor(30, TimeUnit.SECONDS);
        }
        vm.close();
    }
}
