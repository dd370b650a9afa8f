package io.javastor.ioengine.process;

import io.javastor.testsupport.LinuxVm;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The io-engine's uses of the Linux VM ({@link LinuxVm}): its kernel's NVMe/TCP initiator runs guest-connect.sh
 * (discover, connect, identify, data check, fio --verify) against a target of ours on a host port, which the guest
 * reaches as 10.0.2.100:PORT. Skips, saying why, when the harness or QEMU cannot be had.
 */
public final class LinuxNvmeVm {
    public static final String HOST_FROM_GUEST = LinuxVm.HOST_FROM_GUEST;
    private static final Duration LIMIT = Duration.ofSeconds(300);

    private LinuxNvmeVm() {
    }

    public static Path tools() {
        return LinuxVm.tools();
    }

    /** Runs guest-connect.sh against {@code nqn} on host port {@code port}; prints the output and the console tail. */
    public static LinuxVm.Result guestConnect(Path workDir, int port, String nqn) throws IOException, InterruptedException {
        return LinuxVm.script(workDir, tools().resolve("guest-connect.sh"), HOST_FROM_GUEST, Integer.toString(port), nqn, "3").run(LIMIT);
    }

    /** A VM cache with a kernel that has NVMe in-band authentication (see {@link io.javastor.testsupport.GuestKernels}). */
    public static Path authKernel() throws IOException, InterruptedException {
        tools();
        return io.javastor.testsupport.GuestKernels.withNvmeAuthentication();
    }

    /** Runs {@code guestScript} with {@code args} in the VM booting the kernel of VM cache {@code cache}. */
    public static LinuxVm.Result run(Path workDir, Path cache, Path guestScript, String... args) throws IOException, InterruptedException {
        return LinuxVm.script(workDir, guestScript, args).kernel(cache).run(LIMIT);
    }
}
