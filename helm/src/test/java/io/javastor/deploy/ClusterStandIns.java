package io.javastor.deploy;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.TimeUnit;

/**
 * What a cluster gives the chart's pods that this machine has not, for ChartSmokeTest: the Kubernetes API (fabric8's
 * mock server in CRUD mode, as the operator's tests use, with the chart's DiskPool CRD, and a TokenReview that knows the
 * one pod-bound token the kubelet "projected" for the io-engine pod), and the PostgreSQL image's entry point (Debian's
 * server binaries, initialised as the image does from POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB).
 */
final class ClusterStandIns implements AutoCloseable {
    /** The node every pod "runs on" (spec.nodeName). */
    static final String NODE_NAME = "smoke-node";
    /** The projected ServiceAccount token written into pods (ContainerLaunch): the API stand-in authenticates it. */
    static final String POD_TOKEN = "smoke-test-pod-token";

    private final KubernetesMockServer kube;
    private final List<Runnable> stops = new ArrayList<>();

    /**
     * @param tokenOwner the ServiceAccount (NAMESPACE:NAME) and pod the projected token is for, as Kubernetes would say
     */
    ClusterStandIns(String tokenOwner, String tokenPod) throws IOException {
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        kube = new KubernetesMockServer(new Context(), new MockWebServer(), responses, new KubernetesMixedDispatcher(responses), false);
        kube.init(InetAddress.getLoopbackAddress(), 0);
        // TokenReview (the core agent asks for an io-engine that wants its node certificate): only our token, for that audience.
        kube.expect().post().withPath("/apis/authentication.k8s.io/v1/tokenreviews").andReply(201, request -> {
            String body = request.getBody().readUtf8();
            boolean ours = body.contains("\"" + POD_TOKEN + "\"") && body.contains("\"javastor-core-agent\"");
            return ours ? """
                    {"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":{"authenticated":true,"audiences":["javastor-core-agent"],
                     "user":{"username":"system:serviceaccount:%s","uid":"smoke-uid","groups":["system:serviceaccounts"],
                      "extra":{"authentication.kubernetes.io/pod-name":["%s"],"authentication.kubernetes.io/pod-uid":["smoke-pod-uid"],
                               "authentication.kubernetes.io/node-name":["%s"]}}}}""".formatted(tokenOwner, tokenPod, NODE_NAME)
                    : """
                    {"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":{"authenticated":false}}""";
        }).always();
        try (KubernetesClient client = kube.createClient()) {
            client.apiextensions().v1().customResourceDefinitions()
                    .load(Chart.dir().resolve("crds/diskpools.javastor.io.yaml").toFile()).create();
        }
        stops.add(kube::destroy);
    }

    /** The API server's URL (http: the stand-in has no certificate of the cluster's). */
    String kubernetesUrl() {
        return "http://127.0.0.1:" + kube.getPort();
    }

    /**
     * The postgres image's entry point: initdb as POSTGRES_USER with POSTGRES_PASSWORD (password authentication over
     * TCP), POSTGRES_DB created, listening on loopback at {@code port}. initdb refuses root: as root through runuser.
     */
    void postgres(Map<String, String> env, int port) throws IOException, InterruptedException {
        Path bin = postgresBin();
        // Its own temp dir: the user postgres cannot enter the test's (root's, 0700).
        Path dir = Files.createTempDirectory("javastor-smoke-pg-");
        stops.add(() -> deleteTree(dir));
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root) {
            run(List.of("chown", "postgres", dir.toString()), Map.of());
        }
        Path pw = dir.resolve("pwfile");
        Files.writeString(pw, env.get("POSTGRES_PASSWORD"));
        if (root) {
            run(List.of("chown", "postgres", pw.toString()), Map.of());
        }
        Path data = dir.resolve("data");
        String user = env.get("POSTGRES_USER");
        run(asUser(root, List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", user, "--pwfile=" + pw,
                "-A", "scram-sha-256", "-E", "UTF8")), Map.of());
        run(asUser(root, List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-o",
                "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1", "-l", dir.resolve("postgres.log").toString(),
                "-w", "-t", "60", "start")), Map.of());
        stops.add(() -> {
            try {
                run(asUser(root, List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "-w", "stop")), Map.of());
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        run(List.of(bin.resolve("createdb").toString(), "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", user, env.get("POSTGRES_DB")),
                Map.of("PGPASSWORD", env.get("POSTGRES_PASSWORD")));
    }

    /** Debian's newest PostgreSQL server binaries (package postgresql); also what the image's exec probes find on PATH. */
    static Path postgresBin() throws IOException {
        try (var versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            return versions.filter(v -> Files.isExecutable(v.resolve("bin/initdb")))
                    .max(Comparator.comparingInt(v -> Integer.parseInt(v.getFileName().toString())))
                    .map(v -> v.resolve("bin")).orElseThrow(() -> new AssertionError("no /usr/lib/postgresql/*/bin/initdb"));
        }
    }

    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<String> asUser(boolean root, List<String> command) {
        List<String> out = new ArrayList<>(root ? List.of("runuser", "-u", "postgres", "--") : List.of());
        out.addAll(command);
        return out;
    }

    private static void run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(Duration.ofSeconds(90).toSeconds(), TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("failed: " + command + "\n" + out);
        }
    }

    @Override
    public void close() {
        for (int i = stops.size() - 1; i >= 0; i--) {
            stops.get(i).run();
        }
    }
}
