package io.javastor.core.testsupport;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;

import io.javastor.testsupport.FreePorts;

/**
 * The real core agent (its exec jar, path in the system property javastor.test.coreagent.jar) in
 * its own JVM on fixed loopback ports, so it can be stopped, frozen and started again at the same
 * address the gateway is configured with. Shared by the modules whose tests need the agent as a process of its own
 * (the gateway's, the end-to-end crash torture, which kills it with {@code kill -9} and starts it again).
 */
public final class CoreAgentProcess implements AutoCloseable {

    private final String etcdEndpoint;
    private final String cluster;
    private final int grpcPort = FreePorts.next();
    private final int httpPort = FreePorts.next();
    private final Path log;
    private final List<String> extraArgs;
    private Process process;

    public CoreAgentProcess(String etcdEndpoint, String cluster, Path logDir) {
        this(etcdEndpoint, cluster, logDir, List.of());
    }

    /** {@code extraArgs} ({@code --name=value}) replace the defaults below or add to them. */
    public CoreAgentProcess(String etcdEndpoint, String cluster, Path logDir, List<String> extraArgs) {
        this.etcdEndpoint = etcdEndpoint;
        this.cluster = cluster;
        this.log = logDir.resolve("core-agent-" + cluster + ".log");
        this.extraArgs = List.copyOf(extraArgs);
    }

    public static Path jar() {
        String jar = System.getProperty("javastor.test.coreagent.jar", "");
        Assumptions.assumeTrue(!jar.isBlank() && Files.isRegularFile(Path.of(jar)),
                "SKIPPED: no core-agent exec jar (javastor.test.coreagent.jar='" + jar + "'); build with the reactor (mvn verify -pl <module> -am)");
        return Path.of(jar);
    }

    public String address() {
        return "127.0.0.1:" + grpcPort;
    }

    /** Starts it (again, on the same ports, after a stop or a kill) and waits until it leads (its readiness includes leadership). */
    public CoreAgentProcess start() throws IOException {
        java.util.Map<String, String> props = new java.util.LinkedHashMap<>();
        props.put("spring.grpc.server.address", "127.0.0.1:" + grpcPort);
        props.put("server.address", "127.0.0.1");
        props.put("server.port", Integer.toString(httpPort));
        props.put("javastor.core.etcd.endpoints", etcdEndpoint);
        props.put("javastor.core.cluster", cluster);
        props.put("javastor.core.agent-id", "agent-" + cluster);
        props.put("javastor.core.leader.ttl", "2s");
        props.put("javastor.core.nodes.heartbeat-interval", "300ms");
        props.put("javastor.core.nodes.heartbeat-timeout", "3s");
        props.put("javastor.core.nodes.call-timeout", "5s");
        props.put("javastor.core.reconcile.interval", "300ms");
        props.put("spring.datasource.url", "jdbc:h2:mem:" + cluster + ";DB_CLOSE_DELAY=-1");
        for (String a : extraArgs) { // Spring joins a property given twice ("3s,30s"): an override replaces the default
            int eq = a.indexOf('=');
            if (!a.startsWith("--") || eq < 0) {
                throw new IllegalArgumentException("extra argument not of the form --name=value: " + a);
            }
            props.put(a.substring(2, eq), a.substring(eq + 1));
        }
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar().toString()));
        props.forEach((k, v) -> cmd.add("--" + k + "=" + v));
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        HttpClient http = HttpClient.newHttpClient();
        Awaitility.await("core agent " + cluster + " leading").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("core agent exited: " + Files.readString(log));
                    }
                    try {
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + httpPort + "/actuator/health/readiness")).timeout(Duration.ofSeconds(2)).build(),
                                HttpResponse.BodyHandlers.ofString());
                        return r.statusCode() == 200;
                    } catch (IOException e) {
                        return false;
                    }
                });
        return this;
    }

    public Path log() {
        return log;
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL, and wait until it is gone: no shutdown hook runs, nothing is handed over. */
    public void kill9() throws IOException, InterruptedException {
        signal("KILL");
        process.waitFor();
    }

    /** SIGSTOP / SIGCONT: the agent keeps its sockets but answers nothing, like a hung process. */
    public void freeze() throws IOException, InterruptedException {
        signal("STOP");
    }

    public void thaw() throws IOException, InterruptedException {
        signal("CONT");
    }

    private void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
        }
    }

    public void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Override
    public void close() throws Exception {
        if (process != null && process.isAlive()) {
            thaw(); // a frozen JVM ignores SIGTERM until continued
        }
        stop();
    }
}
