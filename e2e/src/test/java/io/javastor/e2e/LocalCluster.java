package io.javastor.e2e;

import io.javastor.api.tls.ClusterTls;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The local cluster as the README runs it: {@code ./javastor} sub-commands with JAVASTOR_HOME in a test directory
 * (jars already built by the reactor, so no recursive Maven), and its REST API over real HTTP on 127.0.0.1:8081.
 */
final class LocalCluster {
    /** HTTPS with the gateway's certificate from the cluster CA {@code ./javastor up} made ($JAVASTOR_HOME/tls/ca.crt). */
    static final String REST = "https://127.0.0.1:8081";

    /** What a ./javastor sub-command printed and how it ended. */
    record Run(List<String> command, int exitCode, String output, Duration took) {
    }

    /** An answer of the REST API. */
    record Answer(int status, String body) {
        JsonNode json() {
            return MAPPER.readTree(body);
        }
    }

    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private final Path root;
    private final Path home;
    private HttpClient http;

    LocalCluster(Path root, Path home) {
        this.root = root;
        this.home = home;
    }

    Path home() {
        return home;
    }

    /** A client trusting the CA of this cluster (made by ./javastor up, so only once it ran). */
    synchronized HttpClient http() {
        if (http == null) {
            http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                    .sslContext(ClusterTls.trustingCa(home.resolve("tls/ca.crt"))).build();
        }
        return http;
    }

    /** The core agent's certificate that {@code ./javastor up} made: what a test uses to call the io-engines. */
    ClusterTls coreAgentTls() {
        Path tls = home.resolve("tls");
        return new ClusterTls(true, tls.resolve("ca.crt"), tls.resolve("core-agent.crt"), tls.resolve("core-agent.key"));
    }

    Path script() {
        return root.resolve("javastor");
    }

    /** Runs {@code ./javastor ARGS...}; its output goes to the console as it comes and is returned. */
    Run javastor(Duration limit, String... args) throws IOException, InterruptedException {
        return javastor(limit, true, args);
    }

    /**
     * The {@code nvme connect} options of host {@code node} for a volume published to it ({@code ./javastor host-secrets}:
     * host NQN, host id, its DH-HMAC-CHAP pair). Secret: not printed.
     */
    String hostConnectOptions(String volume, String node) throws IOException, InterruptedException {
        Run r = javastor(Duration.ofMinutes(2), false, "host-secrets", volume, node);
        if (r.exitCode() != 0) {
            throw new AssertionError("./javastor host-secrets " + volume + " " + node + " exited " + r.exitCode() + ":\n"
                    + r.output().replaceAll("DHHC-1:[^ ]+", "DHHC-1:(hidden)"));
        }
        String options = r.output().strip().lines().reduce((a, b) -> b).orElse("");
        if (!options.contains("--hostnqn=") || !options.contains("--dhchap-secret=DHHC-1:") || !options.contains("--dhchap-ctrl-secret=DHHC-1:")) {
            throw new AssertionError("./javastor host-secrets " + volume + " " + node + " printed no host NQN and secret pair");
        }
        return options;
    }

    private Run javastor(Duration limit, boolean show, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", script().toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(home.getParent(), "javastor-", ".out");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile()).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("JAVASTOR_HOME", home.toString());
        pb.environment().put("JAVASTOR_SKIP_BUILD", "1");
        pb.environment().put("JAVASTOR_POOL_MB", "1024");
        long t0 = System.nanoTime();
        Process p = pb.start();
        boolean done = p.waitFor(limit.toSeconds(), TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly().waitFor();
        }
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        String text = Files.readString(out, StandardCharsets.UTF_8);
        Files.delete(out);
        System.out.printf("---- ./javastor %s (%d s, exit %s) ----%n%s%n", String.join(" ", args), took.toSeconds(),
                done ? Integer.toString(p.exitValue()) : "none: killed after " + limit.toSeconds() + " s", show ? text : "(output not shown: secrets)");
        return new Run(cmd, done ? p.exitValue() : -1, text, took);
    }

    Answer get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(REST + path)).timeout(Duration.ofSeconds(30)).GET().build());
    }

    Answer put(String path, String json) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(REST + path)).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    Answer delete(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(REST + path)).timeout(Duration.ofSeconds(120)).DELETE().build());
    }

    /** Sends with the admin token {@code ./javastor up} wrote (auth is on in the local cluster, as everywhere). */
    private Answer send(HttpRequest request) throws IOException, InterruptedException {
        String token = Files.readString(home.resolve("auth/admin.token")).strip();
        return sendAs(HttpRequest.newBuilder(request, (name, value) -> true).header("Authorization", "Bearer " + token).build());
    }

    /** Sends exactly this request (no token unless it has one). */
    Answer sendAs(HttpRequest request) throws IOException, InterruptedException {
        HttpResponse<String> r = http().send(request, HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), r.body());
    }

    /** A body of the REST API that must be 200, as JSON. */
    JsonNode ok(Answer a, String what) {
        if (a.status() != 200) {
            throw new AssertionError(what + ": HTTP " + a.status() + " " + a.body());
        }
        return a.json();
    }

    /** A volume as the REST API shows it (must be there). */
    JsonNode volume(String uuid) throws IOException, InterruptedException {
        return ok(get("/v0/volumes/" + uuid), "get volume " + uuid);
    }

    /** The volume's state.status as the REST API shows it (Online, Degraded, ...). */
    String volumeStatus(String uuid) throws IOException, InterruptedException {
        return volume(uuid).path("state").path("status").asString();
    }

    /** The first match of {@code regex} in a command's output, or "(not printed)". */
    static String firstMatch(String text, String regex) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(regex).matcher(text);
        return m.find() ? m.group() : "(not printed)";
    }

    /** The pid ./javastor recorded for a component. */
    long pid(String name) throws IOException {
        return Long.parseLong(Files.readString(home.resolve("run").resolve(name + ".pid")).trim());
    }

    String read(String file) throws IOException {
        Path f = home.resolve(file);
        return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
    }

    /** The last lines of every component's log, the supervisor's log and ./javastor status: what a failure needs. */
    String diagnostics() {
        StringBuilder sb = new StringBuilder();
        try (var files = Files.list(home)) {
            for (Path log : files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().toList()) {
                List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
                sb.append("---- tail of ").append(log).append(" ----\n");
                lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(l -> sb.append("  ").append(l).append('\n'));
            }
            sb.append("---- ./javastor status ----\n").append(javastor(Duration.ofSeconds(60), "status").output());
        } catch (Exception e) {
            sb.append("(diagnostics incomplete: ").append(e).append(")\n");
        }
        return sb.toString();
    }

    /**
     * Ends a test's use of the cluster, passed or not: closes the VM, prints the timeline (and on a failure the VM's
     * output and the cluster's diagnostics), and destroys the cluster.
     */
    void finish(boolean passed, java.util.List<String> timeline, GuestVm vm) throws Exception {
        if (vm != null) {
            vm.close();
        }
        if (!passed) {
            System.out.println("==== e2e FAILED; timeline ====\n" + String.join("\n", timeline));
            if (vm != null) {
                System.out.println("---- VM output ----\n" + vm.output() + "\n---- console tail ----\n" + vm.consoleTail());
            }
            System.out.println(diagnostics());
        } else {
            System.out.println("==== e2e timeline ====\n" + String.join("\n", timeline));
        }
        if (java.nio.file.Files.exists(home())) {
            javastor(java.time.Duration.ofMinutes(2), "destroy");
        }
    }
}
