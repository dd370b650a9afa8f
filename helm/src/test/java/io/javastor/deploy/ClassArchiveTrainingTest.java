package io.javastor.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import javax.tools.ToolProvider;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker/cds-train.sh, the class-data training run every Java image's build runs, run here on the host against a
 * small application that prints its arguments and exits as told: an archive on success, a failed build (with the
 * log's tail) otherwise, and a kept partial archive only for the failure the image accepts.
 */
class ClassArchiveTrainingTest {
    private static final Path SCRIPT = Chart.repoRoot().resolve("docker/cds-train.sh");

    @TempDir
    static Path appSource;

    private static byte[] jar;

    @TempDir
    Path app;

    @TempDir
    Path tmp;

    @TempDir
    Path output;

    /** An application whose arguments --say=TEXT and --exit=N say what it prints and how it ends. */
    @BeforeAll
    static void buildApplication() throws IOException {
        Path source = appSource.resolve("Trainee.java");
        Files.writeString(source, """
                public class Trainee {
                    public static void main(String[] args) {
                        int code = 0;
                        System.out.println("trainee args: " + String.join(" ", args));
                        for (String a : args) {
                            if (a.startsWith("--say=")) System.out.println(a.substring(6));
                            if (a.startsWith("--exit=")) code = Integer.parseInt(a.substring(7));
                        }
                        System.exit(code);
                    }
                }
                """);
        assertThat(ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", appSource.toString(), source.toString())).isZero();
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "Trainee");
        var bytes = new java.io.ByteArrayOutputStream();
        try (JarOutputStream out = new JarOutputStream(bytes, manifest)) {
            out.putNextEntry(new JarEntry("Trainee.class"));
            out.write(Files.readAllBytes(appSource.resolve("Trainee.class")));
            out.closeEntry();
        }
        jar = bytes.toByteArray();
    }

    private record Run(int exit, String out, String err) {
    }

    private Run train(String... args) throws IOException, InterruptedException {
        Files.write(app.resolve("app.jar"), jar);
        List<String> command = new ArrayList<>(List.of("sh", SCRIPT.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(Map.of("CDS_APP_DIR", app.toString(), "CDS_TMP", tmp.toString()));
        Path out = output.resolve("stdout"), err = output.resolve("stderr");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the training script ends").isTrue();
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    @Test
    void aRunThatEndsWellLeavesTheArchiveAndNothingElse() throws Exception {
        Run run = train("demo", "--exit=0");
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(app.resolve("app.jsa")).isNotEmptyFile();
        assertThat(tmp).as("the run's log, secret and temporary files are removed").isEmptyDirectory();
        assertThat(run.err()).isEmpty();
    }

    @Test
    void aFailedRunFailsTheBuildWithItsLogAndWhatFailed() throws Exception {
        Run run = train("demo", "--say=no etcd here", "--exit=3");
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out()).contains("no etcd here")
                .as("the application is trained with TLS off, its own arguments after").contains("trainee args: --javastor.tls.enabled=false --say=no etcd here --exit=3");
        assertThat(run.err()).contains("the class-data training run of demo failed (exit 3)");
    }

    @Test
    void theAcceptedFailureKeepsThePartialArchiveWithAWarning() throws Exception {
        Run run = train("io-engine", "--tolerate", "io_uring_queue_init failed", "--say=io_uring_queue_init failed: -38", "--exit=1");
        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        assertThat(app.resolve("app.jsa")).isNotEmptyFile();
        assertThat(run.err()).contains("warning: the class-data training run of io-engine stopped early (io_uring_queue_init failed)");
    }

    @Test
    void anyOtherFailureFailsEvenWhereOneIsAccepted() throws Exception {
        Run run = train("io-engine", "--tolerate", "io_uring_queue_init failed", "--say=cannot bind 8420", "--exit=1");
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out()).contains("cannot bind 8420");
        assertThat(run.err()).contains("the class-data training run of io-engine failed (exit 1)");
    }
}
