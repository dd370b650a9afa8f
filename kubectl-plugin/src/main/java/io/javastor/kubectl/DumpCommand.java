package io.javastor.kubectl;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/**
 * {@code dump system}: a support bundle ({@code .tar.gz}) with every spec and state the REST API shows, the recent
 * events and each component's log: the local cluster's files under {@code $JAVASTOR_HOME} (or {@code --logs-dir}),
 * or, when the gateway was reached through Kubernetes (or {@code -n} is given), the Javastor pods' logs through kubectl. A part that cannot be read is noted in
 * {@code errors.txt} instead of failing the bundle: a bundle is most needed when something is broken.
 */
@Command(name = "dump", mixinStandardHelpOptions = true, description = "Write a support bundle: dump system [-f FILE].")
final class DumpCommand implements Callable<Integer> {
    @ParentCommand
    KubectlJavastor root;
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "system")
    String what;
    @Option(names = {"-f", "--file"}, description = "the bundle (default: javastor-dump-TIME.tar.gz here)")
    Path file;
    @Option(names = "--logs-dir", description = "where the components' logs are (default: $JAVASTOR_HOME, the local cluster)")
    Path logsDir;

    private final List<String> errors = new ArrayList<>();

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (!what.equals("system")) {
            throw new IllegalArgumentException("'" + what + "': kubectl javastor dump system");
        }
        RestConnection rest = root.connect();
        Path out = file != null ? file : Path.of("javastor-dump-" + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                .withZone(ZoneOffset.UTC).format(Instant.now()) + ".tar.gz");
        Path partial = out.resolveSibling(out.getFileName() + ".partial");
        int entries = 0;
        try (OutputStream raw = Files.newOutputStream(partial); GzipCompressorOutputStream gz = new GzipCompressorOutputStream(raw);
             TarArchiveOutputStream tar = new TarArchiveOutputStream(gz)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (String[] part : List.of(new String[] {"nodes.json", "/v0/nodes"}, new String[] {"pools.json", "/v0/pools"},
                    new String[] {"volumes.json", "/v0/volumes"}, new String[] {"replicas.json", "/v0/replicas"},
                    new String[] {"nexuses.json", "/v0/nexuses"}, new String[] {"specs.json", "/v0/specs"},
                    new String[] {"snapshots.json", "/v0/volumes/snapshots"}, new String[] {"app-nodes.json", "/v0/app-nodes"},
                    new String[] {"events.json", "/v0/events?page_size=1000"})) {
                entries += add(tar, "api/" + part[0], () -> rest.getText(part[1]));
            }
            JsonNode nodes = rest.get("/v0/nodes");
            for (JsonNode n : nodes) {
                String id = n.path("id").asString();
                entries += add(tar, "api/block-devices/" + id + ".json",
                        () -> rest.getText("/v0/nodes/" + RestConnection.segment(id) + "/block_devices?all=true"));
            }
            // Through Kubernetes (or -n given): the pods' logs; else the local cluster's files.
            String namespace = root.kubernetesNamespace();
            entries += namespace != null && logsDir == null ? podLogs(tar, namespace) : localLogs(tar);
            if (!errors.isEmpty()) {
                entries += add(tar, "errors.txt", () -> String.join("\n", errors) + "\n");
            }
        }
        Files.move(partial, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        spec.commandLine().getOut().println("wrote " + out + " (" + entries + " files" + (errors.isEmpty() ? "" : ", " + errors.size()
                + " part(s) unreadable: see errors.txt") + ")");
        return 0;
    }

    private interface Part {
        String read() throws IOException, InterruptedException;
    }

    private int add(TarArchiveOutputStream tar, String name, Part part) throws IOException {
        String text;
        try {
            text = part.read();
        } catch (IOException | RuntimeException | InterruptedException e) {
            errors.add(name + ": " + e.getMessage());
            return 0;
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry entry = new TarArchiveEntry("javastor-dump/" + name);
        entry.setSize(bytes.length);
        entry.setModTime(System.currentTimeMillis());
        tar.putArchiveEntry(entry);
        tar.write(bytes);
        tar.closeArchiveEntry();
        return 1;
    }

    private int localLogs(TarArchiveOutputStream tar) throws IOException {
        Path dir = logsDir != null ? logsDir : Path.of(System.getenv().getOrDefault("JAVASTOR_HOME", "/tmp/javastor"));
        if (!Files.isDirectory(dir)) {
            errors.add("logs: " + dir + " is not a directory (--logs-dir, or --namespace in Kubernetes)");
            return 0;
        }
        int n = 0;
        List<Path> logs;
        try (Stream<Path> files = Files.list(dir)) {
            logs = files.filter(f -> f.getFileName().toString().endsWith(".log") && Files.isRegularFile(f)).sorted().toList();
        }
        for (Path log : logs) {
            n += add(tar, "logs/" + log.getFileName(), () -> tail(log));
        }
        return n;
    }

    /** The last 8 MiB of a log: enough for the recent past, bounded for a long-running cluster. */
    private static String tail(Path log) throws IOException {
        long size = Files.size(log);
        long keep = 8L << 20;
        try (var ch = Files.newByteChannel(log)) {
            ch.position(Math.max(0, size - keep));
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate((int) Math.min(size, keep));
            while (buf.hasRemaining() && ch.read(buf) > 0) {
                // read until full
            }
            return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
        }
    }

    private int podLogs(TarArchiveOutputStream tar, String namespace) throws IOException, InterruptedException {
        String pods = kubectl("-n", namespace, "get", "pods", "-l", "app.kubernetes.io/name=javastor", "-o", "name");
        int n = 0;
        for (String pod : pods.lines().filter(l -> !l.isBlank()).toList()) {
            n += add(tar, "logs/" + pod.replace("pod/", "") + ".log",
                    () -> kubectl("-n", namespace, "logs", pod, "--all-containers", "--prefix", "--tail=100000"));
        }
        return n;
    }

    /** kubectl with the same kubeconfig and context the gateway was found through. */
    private String kubectl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("kubectl"));
        if (root.kubeconfig != null) {
            command.addAll(List.of("--kubeconfig", root.kubeconfig.toString()));
        }
        if (root.context != null) {
            command.addAll(List.of("--context", root.context));
        }
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out.strip());
        }
        return out;
    }
}
