package io.javastor.testsupport;

import io.grpc.ManagedChannel;
import io.javastor.api.tls.ClusterPeer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A real io-engine (the Spring Boot application) in its own JVM, every server on a free loopback port, its pool
 * files allowed only under the temporary folder. Every module's tests start engines through this one launcher.
 */
public final class IoEngineProcess implements AutoCloseable {
    private final String nodeName;
    private final int grpcPort = FreePorts.next();
    private final int httpPort = FreePorts.next();
    private final JavaProcess process;
    private ManagedChannel channel;

    /**
     * @param coreAgentEndpoint where it registers ({@code host:port}), or empty for an engine on its own
     * @param extraArgs         {@code --name=value} arguments that replace the defaults below or add to them
     */
    private IoEngineProcess(JavaProcess.Program program, String nodeName, String coreAgentEndpoint, List<String> disks,
                            Path log, List<String> extraArgs) {
        this.nodeName = nodeName;
        Map<String, String> props = new LinkedHashMap<>();
        props.put("javastor.io-engine.node-name", nodeName);
        if (!coreAgentEndpoint.isEmpty()) {
            props.put("javastor.io-engine.core-agent-endpoint", coreAgentEndpoint);
        }
        props.put("spring.grpc.server.host", "127.0.0.1");
        props.put("spring.grpc.server.port", Integer.toString(grpcPort));
        props.put("server.address", "127.0.0.1");
        props.put("server.port", Integer.toString(httpPort));
        props.put("javastor.io-engine.nvmf.port", Integer.toString(FreePorts.next())); // never the shared default 8420
        // Tests keep their pool files in temporary folders: those, and nothing else on this machine.
        props.put("javastor.io-engine.disk-policy.allowed-paths",
                Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize() + "/**");
        if (!disks.isEmpty()) {
            props.put("javastor.io-engine.disks", String.join(",", disks));
        }
        props.putAll(ClusterCertificates.shared().springProperties(new ClusterPeer.Node(nodeName))); // mTLS, as in production
        List<String> args = JavaProcess.springArgs(props, extraArgs);
        List<String> jvm = new ArrayList<>(List.of("-Xmx512m", "-XX:-UsePerfData")); // as ./javastor, the image and the chart run it
        jvm.addAll(JavaProcess.nativeLibraryOptions());
        this.process = new JavaProcess("io-engine " + nodeName, program, jvm, args, log, this::healthy, Duration.ofSeconds(120));
    }

    /** The io-engine module's own tests: the application on the test classpath (its exec jar is built after them). */
    public static IoEngineProcess fromClasspath(String nodeName, List<String> disks, Path log, List<String> extraArgs) {
        return new IoEngineProcess(JavaProcess.Program.mainClass("io.javastor.ioengine.IoEngineApplication"),
                nodeName, "", disks, log, extraArgs);
    }

    /** The other modules' tests: the exec jar ({@link JavaProcess#IO_ENGINE_JAR}), registering with a core agent; log in logDir. */
    public static IoEngineProcess fromJar(String nodeName, String coreAgentEndpoint, Path logDir) {
        return fromJar(nodeName, coreAgentEndpoint, logDir, List.of());
    }

    public static IoEngineProcess fromJar(String nodeName, String coreAgentEndpoint, Path logDir, List<String> extraArgs) {
        return new IoEngineProcess(JavaProcess.Program.jar(JavaProcess.IO_ENGINE_JAR), nodeName, coreAgentEndpoint, List.of(),
                logDir.resolve(nodeName + ".log"), extraArgs);
    }

    /** Starts engines in parallel (each JVM takes seconds on a small machine); returns when all are healthy. */
    public static void startAll(Collection<IoEngineProcess> engines) throws InterruptedException, ExecutionException {
        ExecutorService starter = Executors.newFixedThreadPool(Math.max(1, engines.size()));
        try {
            List<Future<IoEngineProcess>> started = new ArrayList<>();
            for (IoEngineProcess e : engines) {
                started.add(starter.submit(e::start));
            }
            for (Future<IoEngineProcess> f : started) {
                f.get(); // start() has its own deadline
            }
        } finally {
            starter.shutdownNow();
        }
    }

    /** Starts it (again, on the same ports, after a kill) and waits until its health is UP. */
    public IoEngineProcess start() throws IOException {
        process.start();
        if (channel == null) {
            // The tests call the engine as the core agent does: the only peer it serves.
            channel = ClusterCertificates.shared().of(ClusterPeer.CORE_AGENT)
                    .channelTo("127.0.0.1:" + grpcPort, new ClusterPeer.Node(nodeName)).build();
        }
        return this;
    }

    public boolean healthy() throws InterruptedException {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/actuator/health")).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().contains("\"UP\"");
        } catch (IOException e) {
            return false; // not listening yet: polled again until the deadline
        }
    }

    /** The body of a GET on its HTTP (actuator) port. */
    public String http(String path) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    public IoEngineStubs api() {
        return IoEngineStubs.on(channel, Duration.ofSeconds(30));
    }

    public String name() {
        return nodeName;
    }

    public int grpcPort() {
        return grpcPort;
    }

    public Process process() {
        return process.process();
    }

    public Path log() {
        return process.log();
    }

    /** CPU time (user + system) the process has used, in clock ticks. */
    public long cpuTicks() throws IOException {
        String[] f = Files.readString(Path.of("/proc/" + process.pid() + "/stat")).split("\\) ")[1].split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    /** SIGKILL: the node vanishes without deregistering or closing anything. */
    public void kill9() throws IOException, InterruptedException {
        process.kill9();
    }

    /** SIGSTOP: the node keeps its sockets but answers nothing and stops beating, like a hung one. */
    public void freeze() throws IOException, InterruptedException {
        process.freeze();
    }

    /** SIGCONT after {@link #freeze()}. */
    public void thaw() throws IOException, InterruptedException {
        process.thaw();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        process.stop();
        if (channel != null) {
            channel.shutdownNow();
        }
    }
}
