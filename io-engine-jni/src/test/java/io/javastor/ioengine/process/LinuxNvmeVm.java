package io.javastor.ioengine.process;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The Linux VM harness (../shared/tools/linux-nvme-vm): its kernel's NVMe/TCP initiator runs guest-connect.sh
 * (discover, connect, identify, data check, fio --verify) against a target of ours on a host port, which the
 * guest reaches as 10.0.2.100:PORT. Skips, saying why, when the harness or QEMU cannot be had.
 */
public final class LinuxNvmeVm {
    public static final String HOST_FROM_GUEST = "10.0.2.100";

    /** What the guest printed, and whether it finished in time. */
    public record Result(boolean exited, int exitCode, String output) {
    }

    private LinuxNvmeVm() {
    }

    public static Path tools() {
        Path tools = Path.of(System.getProperty("javastor.vm.tools", "../../shared/tools/linux-nvme-vm")).toAbsolutePath().normalize();
        Assumptions.assumeTrue(Files.isReadable(tools.resolve("run-vm.sh")), "skipped: VM harness " + tools.resolve("run-vm.sh") + " not found");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/qemu-system-x86_64")) || "root".equals(System.getProperty("user.name")),
                "skipped: QEMU is not installed and we are not root to install it");
        return tools;
    }

    /** Runs guest-connect.sh against {@code nqn} on host port {@code port}; prints the output and the console tail. */
    public static Result guestConnect(Path workDir, int port, String nqn) throws IOException, InterruptedException {
        return run(workDir, null, tools().resolve("guest-connect.sh"), HOST_FROM_GUEST, Integer.toString(port), nqn, "3");
    }

    /** A VM cache with a kernel that has NVMe in-band authentication (see {@link io.javastor.testsupport.GuestKernels}). */
    public static Path authKernel() throws IOException, InterruptedException {
        tools();
        return io.javastor.testsupport.GuestKernels.withNvmeAuthentication();
    }

    /**
     * Runs {@code guestScript} with {@code args} in the VM ({@code cache}: another kernel's VM cache, null for the
     * harness's own); prints the output and the console tail.
     */
    public static Result run(Path workDir, Path cache, Path guestScript, String... args) throws IOException, InterruptedException {
        Path tools = tools();
        Path share = Files.createDirectories(workDir.resolve("share"));
        Path log = workDir.resolve("vm.log");
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("bash", tools.resolve("run-vm.sh").toString(),
                guestScript.toAbsolutePath().toString()));
        cmd.addAll(java.util.List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("VM_SHARE", share.toString());
        if (cache != null) {
            pb.environment().put("VM_CACHE", cache.toString());
        }
        Process vm = pb.start();
        boolean exited = vm.waitFor(300, TimeUnit.SECONDS);
        if (!exited) {
            vm.destroyForcibly();
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        System.out.println("---- VM output ----\n" + out + "\n---- console tail ----\n" + tail(share.resolve("console.log")));
        return new Result(exited, exited ? vm.exitValue() : -1, out);
    }

    private static String tail(Path f) throws IOException {
        if (!Files.exists(f)) {
            return "(none)";
        }
        String s = Files.readString(f, StandardCharsets.ISO_8859_1);
        return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    }
}
