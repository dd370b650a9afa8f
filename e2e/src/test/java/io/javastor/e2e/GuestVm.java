package io.javastor.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/**
 * The Linux VM of ../shared/tools/linux-nvme-vm running one guest script in the background: the host reaches it
 * through files in the shared folder (markers both ways) and reads its output when it has finished. From the guest,
 * the host's 127.0.0.1:P is 10.0.2.100:P for P in 8420..8424 (the harness's default forwards), which covers the
 * NVMe-oF ports of node-1..node-5 of the local cluster.
 */
final class GuestVm implements AutoCloseable {
    static final String HOST_FROM_GUEST = "10.0.2.100";

    private final Path share;
    private final Path log;
    private final Process process;

    private GuestVm(Path share, Path log, Process process) {
        this.share = share;
        this.log = log;
        this.process = process;
    }

    /** The harness, or a skip that says why it cannot be had. */
    static Path tools() {
        Path tools = Path.of(System.getProperty("javastor.vm.tools", "../../shared/tools/linux-nvme-vm")).toAbsolutePath().normalize();
        Assumptions.assumeTrue(Files.isReadable(tools.resolve("run-vm.sh")), "skipped: VM harness " + tools.resolve("run-vm.sh") + " not found");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/qemu-system-x86_64")) || "root".equals(System.getProperty("user.name")),
                "skipped: QEMU is not installed and we are not root to install it");
        return tools;
    }

    /** Boots the VM with the guest script (a test resource) and its arguments; returns at once. */
    static GuestVm start(Path workDir, String scriptResource, int timeoutSeconds, String... args) throws IOException {
        Path tools = tools();
        Path guestDir = Files.createDirectories(workDir.resolve("guest"));
        Path script = guestDir.resolve(Path.of(scriptResource).getFileName().toString());
        try (InputStream in = GuestVm.class.getResourceAsStream(scriptResource)) {
            if (in == null) {
                throw new IllegalStateException("test resource " + scriptResource + " missing");
            }
            Files.copy(in, script);
        }
        Path share = Files.createDirectories(workDir.resolve("share"));
        Path log = workDir.resolve("vm.log");
        Path kernel = kernelCache();
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", tools.resolve("run-vm.sh").toString(), script.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("VM_SHARE", share.toString());
        pb.environment().put("VM_CACHE", kernel.toString());
        pb.environment().put("VM_TIMEOUT_S", Integer.toString(timeoutSeconds));
        return new GuestVm(share, log, pb.start());
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
        return Files.exists(share.resolve(name));
    }

    void signal(String name) throws IOException {
        Files.writeString(share.resolve(name), name + "\n");
    }

    boolean alive() {
        return process.isAlive();
    }

    /** Waits for the guest to finish; -1 if it did not in time (then it is killed). */
    int await(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            kill();
            return -1;
        }
        return process.exitValue();
    }

    String output() throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
    }

    String consoleTail() throws IOException {
        Path console = share.resolve("console.log");
        if (!Files.exists(console)) {
            return "(no console log)";
        }
        String s = Files.readString(console, StandardCharsets.ISO_8859_1);
        return s.length() > 6000 ? s.substring(s.length() - 6000) : s;
    }

    /** run-vm.sh, and QEMU under it. */
    private void kill() throws InterruptedException {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor();
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            signal("abort");
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                kill();
            }
        }
    }
}
