package io.javastor.csi.node;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Runs one external command with a timeout; used only by {@link NvmeCli} and {@link Mounter}. */
final class Exec {
    /** What a command did: exit code (-1 when it could not be started or timed out) and its output. */
    record Result(List<String> command, int code, String out, String err) {
        boolean ok() {
            return code == 0;
        }

        String describe() {
            return String.join(" ", command) + " exited " + code + (err.isBlank() ? "" : ": " + err.strip())
                    + (out.isBlank() || !err.isBlank() ? "" : ": " + out.strip());
        }
    }

    private Exec() {
    }

    static Result run(Duration timeout, List<String> command) {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            return new Result(command, -1, "", "cannot run: " + e.getMessage());
        }
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                return new Result(command, -1, "", "timed out after " + timeout);
            }
            return new Result(command, p.exitValue(), out.get(), err.get());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            return new Result(command, -1, "", "interrupted");
        } catch (ExecutionException e) {
            return new Result(command, p.exitValue(), "", "output unreadable: " + e.getCause());
        }
    }

    private static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether a tool is installed (looked up in the usual sbin/bin folders, then PATH). */
    static boolean installed(String tool) {
        for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin")) {
            if (java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
