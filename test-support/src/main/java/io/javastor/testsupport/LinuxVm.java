package io.javastor.testsupport;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * One guest script run in the Linux VM of ../shared/tools/linux-nvme-vm (run-vm.sh), in the background: the one
 * launcher every VM test uses. Files in {@code WORK/share} are the guest's {@code /tmp/share}; run-vm.sh's output goes
 * to {@code WORK/vm.log}. From the guest, the host's 127.0.0.1:P is {@link #HOST_FROM_GUEST}:P for the forwarded ports.
 *
 * <p>The guest kernel boots under QEMU's software emulation with two vCPUs, where it sometimes oopses while patching
 * its own code during boot (an int3 on the other vCPU, then "Kernel panic") before anything of ours runs. Such a boot
 * is QEMU's and is tried again, said on the output, at most {@link #BOOTS} times in all. Whether the guest script had
 * begun is known from a marker a wrapper writes before it runs the script: a panic after that is reported as it is,
 * since our target could have caused it.
 */
public final class LinuxVm implements AutoCloseable {
    public static final String HOST_FROM_GUEST = "10.0.2.100";
    static final int BOOTS = 3;
    static final String STARTED = ".guest-started";
    private static final String WRAPPER = "guest-wrapper.sh";

    private final Path work;
    private final Path share;
    private final ProcessBuilder builder;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final List<String> retriedBoots = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile Process process;
    private volatile boolean closing;

    private LinuxVm(Path work, Path share, ProcessBuilder builder) {
        this.work = work;
        this.share = share;
        this.builder = builder;
    }

    /** The harness folder, or a skip that says why it cannot be had. */
    public static Path tools() {
        Path tools = Path.of(System.getProperty("javastor.vm.tools", defaultTools())).toAbsolutePath().normalize();
        Assumptions.assumeTrue(Files.isReadable(tools.resolve("run-vm.sh")), "skipped: VM harness " + tools.resolve("run-vm.sh") + " not found");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/qemu-system-x86_64")) || "root".equals(System.getProperty("user.name")),
                "skipped: QEMU is not installed and we are not root to install it");
        return tools;
    }

    /** ../shared/tools/linux-nvme-vm next to the repository that holds the working directory. */
    private static String defaultTools() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve(".ci/run"))) {
                return d.resolveSibling("shared").resolve("tools/linux-nvme-vm").toString();
            }
        }
        return "../../shared/tools/linux-nvme-vm";
    }

    /** A run of {@code script} (its sibling *.sh files go along) in {@code work}; see {@link Launch}. */
    public static Launch script(Path work, Path script, String... args) {
        return new Launch(work, script, List.of(args));
    }

    /** A run of the guest script that is the class-path resource {@code resource} of {@code owner}. */
    public static Launch resource(Path work, Class<?> owner, String resource, String... args) throws IOException {
        Path dir = Files.createDirectories(work.resolve("guest"));
        Path script = dir.resolve(Path.of(resource).getFileName().toString());
        try (var in = owner.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("test resource " + resource + " missing");
            }
            Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
        return new Launch(work, script, List.of(args));
    }

    /** How to run one guest script: the kernel's VM cache, forwarded ports, time and memory. */
    public static final class Launch {
        private final Path work;
        private final Path script;
        private final List<String> args;
        private final Map<String, String> env = new LinkedHashMap<>();
        private Path runVm;

        private Launch(Path work, Path script, List<String> args) {
            if (script.getFileName().toString().equals("guest.sh") || script.getFileName().toString().equals(WRAPPER)) {
                throw new IllegalArgumentException("guest script " + script + ": the names guest.sh and " + WRAPPER + " are the harness's");
            }
            this.work = work;
            this.script = script;
            this.args = args;
        }

        /** The VM cache (run-vm.sh's VM_CACHE) whose kernel boots, e.g. {@link GuestKernels#withNvmeAuthentication()}. */
        public Launch kernel(Path cache) {
            env.put("VM_CACHE", cache.toString());
            return this;
        }

        /** Host ports the guest may reach (run-vm.sh's VM_HOST_PORTS; its default is 4420-4424 and 8420-8424). */
        public Launch hostPorts(int... ports) {
            env.put("VM_HOST_PORTS", java.util.Arrays.stream(ports).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
            return this;
        }

        /** The most one boot may take before QEMU is stopped (run-vm.sh's VM_TIMEOUT_S). */
        public Launch timeout(Duration limit) {
            env.put("VM_TIMEOUT_S", Long.toString(limit.toSeconds()));
            return this;
        }

        public Launch memoryMb(int mb) {
            env.put("VM_MEM_MB", Integer.toString(mb));
            return this;
        }

        /** Another run-vm.sh than the harness's (LinuxVmTest's stand-in for QEMU, which boots in seconds). */
        Launch harness(Path runVmScript) {
            this.runVm = runVmScript;
            return this;
        }

        /** Boots the VM; returns at once. */
        public LinuxVm start() throws IOException {
            Path runVm = this.runVm != null ? this.runVm : tools().resolve("run-vm.sh");
            Path share = Files.createDirectories(work.resolve("share"));
            Path staged = stage();
            List<String> cmd = new ArrayList<>(List.of("bash", runVm.toString(), staged.resolve(WRAPPER).toString(), script.getFileName().toString()));
            cmd.addAll(args);
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(work.resolve("vm.log").toFile());
            pb.environment().put("VM_SHARE", share.toString());
            pb.environment().putAll(env);
            LinuxVm vm = new LinuxVm(work, share, pb);
            vm.boot();
            return vm;
        }

        /** Boots the VM and waits up to {@code limit} for the guest script to end; the output is printed. */
        public Result run(Duration limit) throws IOException, InterruptedException {
            try (LinuxVm vm = start()) {
                boolean exited = vm.waitFor(limit.toSeconds(), TimeUnit.SECONDS);
                String out = vm.output();
                System.out.println("---- VM output ----\n" + out + "\n---- console tail ----\n" + vm.consoleTail(4000));
                return new Result(exited, exited ? vm.exitValue() : -1, out);
            }
        }

        /**
         * The script with its sibling *.sh files, and the wrapper run-vm.sh runs as guest.sh: it marks that the guest
         * got as far as our script, then runs it (its siblings are copied next to it, as run-vm.sh does).
         */
        private Path stage() throws IOException {
            Path staged = Files.createDirectories(work.resolve("vm-script"));
            try (var siblings = Files.list(script.toAbsolutePath().getParent())) {
                for (Path f : siblings.filter(p -> p.getFileName().toString().endsWith(".sh")).toList()) {
                    Files.copy(f, staged.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Files.writeString(staged.resolve(WRAPPER), """
                    #!/usr/bin/env bash
                    # Written by LinuxVm: the guest booted and our script begins (a kernel panic before this marker is QEMU's).
                    : > ./%s
                    script=$1; shift
                    exec bash "./$script" "$@"
                    """.formatted(STARTED));
            return staged;
        }
    }

    /** What the guest printed, and whether it finished in time. */
    public record Result(boolean exited, int exitCode, String output) {
    }

    private void boot() throws IOException {
        Files.deleteIfExists(share.resolve(STARTED));
        Process p = builder.start();
        process = p;
        p.onExit().thenAccept(this::ended);
    }

    private void ended(Process p) {
        try {
            if (!closing && !Files.exists(share.resolve(STARTED)) && retriedBoots.size() + 1 < BOOTS && panicked()) {
                int boot = retriedBoots.size() + 1;
                Path kept = work.resolve("vm-boot" + boot + ".log");
                Files.move(work.resolve("vm.log"), kept, StandardCopyOption.REPLACE_EXISTING);
                if (Files.exists(share.resolve("console.log"))) {
                    Files.move(share.resolve("console.log"), share.resolve("console-boot" + boot + ".log"), StandardCopyOption.REPLACE_EXISTING);
                }
                String said = "LinuxVm: boot " + boot + " of at most " + BOOTS + " ended in a guest kernel panic before the guest script began"
                        + " (QEMU's emulation; its output is in " + kept + "); booting again";
                System.out.println(said);
                retriedBoots.add(said);
                boot();
                return;
            }
            exit.complete(p.exitValue());
        } catch (IOException | RuntimeException e) {
            exit.completeExceptionally(e);
        }
    }

    private boolean panicked() throws IOException {
        Path log = work.resolve("vm.log");
        return Files.exists(log) && Files.readString(log, StandardCharsets.ISO_8859_1).contains("Kernel panic");
    }

    /** The guest's shared folder ({@code /tmp/share} in the guest). */
    public Path share() {
        return share;
    }

    public boolean isAlive() {
        return !exit.isDone();
    }

    /** Waits for the guest script to end (after any retried boot); false if it did not in time. */
    public boolean waitFor(long time, TimeUnit unit) throws InterruptedException {
        try {
            exit.get(time, unit);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException("the VM launcher failed", e.getCause());
        }
    }

    /** run-vm.sh's exit status: the guest script's, or 90+ for a harness failure (see run-vm.sh). */
    public int exitValue() {
        if (!exit.isDone()) {
            throw new IllegalStateException("the VM is still running");
        }
        return exit.join();
    }

    public boolean marker(String name) {
        return Files.exists(share.resolve(name));
    }

    public void signal(String name) throws IOException {
        Files.writeString(share.resolve(name), name + "\n");
    }

    /** run-vm.sh's output of the last boot, after a line for each boot tried again. */
    public String output() throws IOException {
        Path log = work.resolve("vm.log");
        String out = Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
        return retriedBoots.isEmpty() ? out : String.join("\n", retriedBoots) + "\n" + out;
    }

    /** The last {@code chars} characters of the guest's console. */
    public String consoleTail(int chars) throws IOException {
        Path console = share.resolve("console.log");
        if (!Files.exists(console)) {
            return "(no console log)";
        }
        String s = Files.readString(console, StandardCharsets.ISO_8859_1);
        return s.length() > chars ? s.substring(s.length() - chars) : s;
    }

    /** Stops run-vm.sh and QEMU under it, if still running. */
    @Override
    public void close() throws InterruptedException {
        closing = true;
        Process p = process;
        if (p != null && p.isAlive()) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
        }
        if (!exit.isDone()) {
            // The exit handler completes it; wait for that rather than racing it.
            try {
                exit.get(30, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                exit.complete(-1);
            }
        }
    }
}
