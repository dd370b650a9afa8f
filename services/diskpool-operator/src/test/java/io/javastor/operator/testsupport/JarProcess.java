package io.javastor.operator.testsupport;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;

/**
 * A Spring Boot exec jar of ours (core agent, REST gateway) in its own JVM, with its output in a log
 * file; {@link #start()} waits until {@code readyUrl} answers 200. Can be stopped and started again
 * with the same arguments (same ports), as a restarted service would be.
 */
public final class JarProcess implements AutoCloseable {
    private final String name;
    private final Path jar;
    private final List<String> args;
    private final String readyUrl;
    private final Path log;
    private Process process;

    public JarProcess(String name, Path jar, List<String> args, String readyUrl, Path logDir) {
        this.name = name;
        this.jar = jar;
        this.args = args;
        this.readyUrl = readyUrl;
        this.log = logDir.resolve(name + ".log");
    }

    /** The exec jar named by a system property the pom sets; the test is skipped, saying why, when it is missing. */
    public static Path jar(String property) {
        String jar = System.getProperty(property, "");
        Assumptions.assumeTrue(!jar.isBlank() && Files.isRegularFile(Path.of(jar)),
                "SKIPPED: no exec jar (" + property + "='" + jar + "'); build with the reactor: mvn verify -pl services/diskpool-operator -am");
        return Path.of(jar);
    }

    public JarProcess start() throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar.toString()));
        cmd.addAll(args);
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        HttpClient http = HttpClient.newHttpClient();
        Awaitility.await(name + " ready").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(250)).until(() -> {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited: " + Files.readString(log));
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(readyUrl)).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                return r.statusCode() == 200;
            } catch (IOException e) {
                return false;
            }
        });
        return this;
    }

    /** SIGKILL: gone at once, sockets closed by the kernel. */
    public void kill9() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                kill9();
            }
        }
    }
}
