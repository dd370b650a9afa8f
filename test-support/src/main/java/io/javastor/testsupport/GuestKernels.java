package io.javastor.testsupport;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Kernels the VM tests boot under ../shared/tools/linux-nvme-vm. The harness boots Debian 12's 6.1, whose NVMe/TCP
 * host has no in-band authentication (no CONFIG_NVME_HOST_AUTH); tests whose hosts authenticate (DH-HMAC-CHAP, on by
 * default for every volume published to a host) boot Debian 13's 6.12 from the VM cache tools/vm-auth-kernel makes.
 */
public final class GuestKernels {
    private GuestKernels() {
    }

    /**
     * The VM cache (for run-vm.sh's VM_CACHE) with a kernel that has NVMe in-band authentication, made on first use
     * (a download of ~110 MB from deb.debian.org, then kept). Skips the test, saying why, when it cannot be had.
     */
    public static Path withNvmeAuthentication() throws IOException, InterruptedException {
        Path script = repoRoot().resolve("tools/vm-auth-kernel");
        Process p = new ProcessBuilder("bash", script.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        boolean done = p.waitFor(600, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly().waitFor();
        }
        Assumptions.assumeTrue(done && p.exitValue() == 0 && !out.isEmpty(),
                "skipped: tools/vm-auth-kernel could not prepare a VM kernel with NVMe in-band authentication (see its messages above)");
        return Path.of(out.lines().reduce((a, b) -> b).orElseThrow());
    }

    /** The repository's root: the nearest folder above the working directory that holds tools/vm-auth-kernel. */
    private static Path repoRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("tools/vm-auth-kernel"))) {
                return d;
            }
        }
        Assumptions.abort("skipped: tools/vm-auth-kernel not found above " + Path.of("").toAbsolutePath());
        throw new IllegalStateException("unreachable");
    }
}
