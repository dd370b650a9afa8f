package io.javastor.testsupport;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * One of our JVMs as a child process of a test: an exec jar or a main class on the test's classpath, its output
 * appended to a log file, started and waited on until {@code ready} holds (within a deadline; failing at once, with
 * the log, if it exits). It can be started again with the same arguments (same ports), killed with SIGKILL and
 * frozen with SIGSTOP, as the crash tests do to real services.
 */
public final class JavaProcess implements AutoCloseable {
    /** Exec jars are named by these system properties, which each module's pom sets (surefire systemPropertyVariables). */
    public static final String IO_ENGINE_JAR = "javastor.test.ioengine.jar";
    public static final String CORE_AGENT_JAR = "javastor.test.coreagent.jar";
    public static final String GATEWAY_JAR = "javastor.test.gateway.jar";

    /**
     * What the JVM runs: {@code -jar <file>} or {@code -cp <classpath> <main class>}; {@code jarFile} when it is one of
     * our exec jars, which {@link #start()} runs through {@link AppCds} (extracted, with a class archive: the same
     * application, started in a third of the time).
     */
    public record Program(List<String> javaArgs, Path jarFile) {
        public Program(List<String> javaArgs) {
            this(javaArgs, null);
        }

        /** The exec jar named by a system property; the test is skipped, saying why, when it was not built. */
        public static Program jar(String property) {
            Path jar = execJar(property);
            return new Program(List.of("-jar", jar.toString()), jar);
        }

        /** A main class on this test's classpath (the module's own application, before its jar exists). */
        public static Program mainClass(String mainClass) {
            return new Program(List.of("-cp", classpath(), mainClass));
        }
    }

    private final String name;
    private final Program program;
    private final List<String> jvmOptions;
    private final List<String> args;
    private final Path log;
    private final Callable<Boolean> ready;
    private final Duration readyWithin;
    private Process process;

    /**
     * @param jvmOptions extra JVM options (system properties, heap) before the program
     * @param ready      polled until true once the process runs; {@link #httpOk(String)} for a health URL
     */
    public JavaProcess(String name, Program program, List<String> jvmOptions, List<String> args, Path log,
                       Callable<Boolean> ready, Duration readyWithin) {
        this.name = name;
        this.program = program;
        this.jvmOptions = List.copyOf(jvmOptions);
        this.args = List.copyOf(args);
        this.log = log;
        this.ready = ready;
        this.readyWithin = readyWithin;
    }

    /** The command line of a JVM running {@code program}, for tests that drive a process's pipes themselves. */
    public static List<String> command(Program program, List<String> jvmOptions, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(java(), "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        cmd.addAll(jvmOptions);
        cmd.addAll(program.javaArgs());
        cmd.addAll(args);
        return List.copyOf(cmd);
    }

    /**
     * The command line of a JVM running the exec jar named by {@code jarProperty}, from the class archive another test
     * already made for that jar (test-support's AppCds) when there is one, else from the jar; it never trains one.
     */
    public static List<String> commandIfArchived(String jarProperty, List<String> jvmOptions, List<String> args) {
        return AppCds.commandIfArchived(execJar(jarProperty), jvmOptions, args);
    }

    /** The class archive the tests made for this exec jar (whole, for its present content), if any; none is made. */
    public static Optional<Path> classArchiveOf(Path execJar) throws IOException {
        return AppCds.archiveOf(execJar);
    }

    /** SIGKILL a process, and wait until it is gone. */
    public static void kill9(Process p) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-9", Long.toString(p.pid())).inheritIO().start();
        if (kill.waitFor() != 0 && p.isAlive()) {
            throw new IllegalStateException("kill -9 " + p.pid() + " failed");
        }
        p.waitFor();
    }

    /**
     * Spring Boot's own extraction of an exec jar ({@code java -Djarmode=tools -jar JAR extract OPTIONS --destination
     * DIR}), as the images and the local cluster run their jars: the one place the tests extract a jar. Its output is
     * appended to {@code log}; a failure says why, with the log's end.
     */
    public static void extractBootJar(Path execJar, Path destination, Path log, String... options) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(java(), "-Djarmode=tools", "-jar", execJar.toString(), "extract"));
        command.addAll(List.of(options));
        command.addAll(List.of("--destination", destination.toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        boolean ended = p.waitFor(5, java.util.concurrent.TimeUnit.MINUTES);
        if (!ended) {
            p.destroyForcibly().waitFor();
        }
        if (!ended || p.exitValue() != 0) {
            List<String> lines = Files.readAllLines(log, java.nio.charset.StandardCharsets.ISO_8859_1);
            throw new IOException("extracting " + execJar + (ended ? " exited with " + p.exitValue() : " did not end within 5 minutes")
                    + ": " + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size())));
        }
    }

    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The test's classpath (surefire runs tests with a manifest-only jar as java.class.path). */
    public static String classpath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    /**
     * What a VM guest's JVM (the VM tests' node plugin and drivers, which see this machine's files at the same paths)
     * needs to start {@code mainClass} of this test's classpath without loading each class afresh under the guest's
     * software emulation, where that is most of a start (the node plugin took ~70 s): the classpath to use and, when
     * one could be made, a class archive from a training run here with the JVM options the guest uses besides
     * {@link #command}'s (the archive holds for the classpath, whichever of its main classes runs).
     */
    public record GuestJava(String classpath, Optional<Path> archive) {
        /** The guest's {@code -XX:SharedArchiveFile=} option, or nothing. */
        public String archiveOption() {
            return archive.map(a -> "-XX:SharedArchiveFile=" + a).orElse("");
        }
    }

    /** {@link GuestJava} for {@code mainClass}; {@code trainingArgs} build its context as the guest's will (nothing is served). */
    public static GuestJava forGuest(String mainClass, List<String> guestJvmOptions, List<String> trainingArgs) {
        return AppCds.forGuest(mainClass, guestJvmOptions, trainingArgs)
                .map(l -> new GuestJava(l.javaArgs().get(1), Optional.of(l.archive())))
                .orElseGet(() -> new GuestJava(classpath(), Optional.empty()));
    }

    public static Path execJar(String property) {
        String jar = System.getProperty(property, "");
        Assumptions.assumeTrue(!jar.isBlank() && Files.isRegularFile(Path.of(jar)),
                "SKIPPED: no exec jar (" + property + "='" + jar + "'); build with the reactor: mvn verify -pl <module> -am");
        return Path.of(jar);
    }

    /** The JVM options that load the io_uring library this build made, when the pom names it. */
    public static List<String> nativeLibraryOptions() {
        String lib = System.getProperty("javastor.native.lib");
        return lib == null ? List.of() : List.of("-Djavastor.native.lib=" + lib);
    }

    /**
     * Spring Boot arguments: {@code defaults}, each replaced by an {@code overrides} entry ({@code --name=value}) of
     * the same name; a name given twice would reach Spring as both values joined ("3s,30s").
     */
    public static List<String> springArgs(Map<String, String> defaults, List<String> overrides) {
        Map<String, String> props = new LinkedHashMap<>(defaults);
        for (String a : overrides) {
            int eq = a.indexOf('=');
            if (!a.startsWith("--") || eq < 0) {
                throw new IllegalArgumentException("argument not of the form --name=value: " + a);
            }
            props.put(a.substring(2, eq), a.substring(eq + 1));
        }
        List<String> args = new ArrayList<>();
        props.forEach((k, v) -> args.add("--" + k + "=" + v));
        return args;
    }

    /** True when {@code url} answers 200 (within 2 s); false while nothing listens yet. */
    public static boolean httpOk(String url) throws InterruptedException {
        try {
            // https: the REST gateway, with the tests' cluster CA (ClusterCertificates) behind its certificate
            HttpClient client = url.startsWith("https://")
                    ? HttpClient.newBuilder().sslContext(ClusterCertificates.shared().httpsClient()).build() : HttpClient.newHttpClient();
            return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false; // not listening yet, or answering too slowly: the caller polls again until its deadline
        }
    }

    /** Starts it (again, after a stop or a kill) and waits until it is ready. */
    public JavaProcess start() throws IOException {
        List<String> cmd = AppCds.command(program, jvmOptions, args);
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        await(name + " ready").atMost(readyWithin).pollInterval(Duration.ofMillis(250)).until(() -> {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + ": " + Files.readString(log));
            }
            return ready.call();
        });
        return this;
    }

    public String name() {
        return name;
    }

    public Path log() {
        return log;
    }

    public Process process() {
        return process;
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL, and wait until it is gone: no shutdown hook runs, the kernel closes its sockets. */
    public void kill9() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            kill9(process);
        }
    }

    /** SIGSTOP / SIGCONT: the process keeps its sockets but answers nothing, like a hung one. */
    public void freeze() throws IOException, InterruptedException {
        signal("STOP");
    }

    public void thaw() throws IOException, InterruptedException {
        signal("CONT");
    }

    private void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed");
        }
    }

    /** SIGTERM (a clean shutdown), then SIGKILL if it has not ended within 20 s. */
    public void stop() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            thaw(); // a frozen JVM ignores SIGTERM until continued
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                kill9();
            }
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        stop();
    }
}
