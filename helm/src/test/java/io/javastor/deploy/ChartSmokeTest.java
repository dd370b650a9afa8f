package io.javastor.deploy;

import io.javastor.deploy.ContainerLaunch.Image;
import io.javastor.deploy.ContainerLaunch.Rewrite;
import io.javastor.testsupport.JavaProcess;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.javastor.deploy.ContainerLaunch.items;
import static io.javastor.deploy.ContainerLaunch.list0;
import static io.javastor.deploy.Manifests.at;
import static io.javastor.deploy.Manifests.containers;
import static io.javastor.deploy.Manifests.initContainers;
import static io.javastor.deploy.Manifests.map;
import static io.javastor.deploy.Manifests.podSpec;
import static io.javastor.deploy.Manifests.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The chart's containers run for real (issue 17): each container of ours starts the same exec jar (or, when the
 * container gives a command, the image's files under /opt/javastor) with the image's and the container's environment,
 * its volumes in a temp dir, ports and the namespace's Service names remapped to loopback (ContainerLaunch); then each
 * startup, liveness and readiness probe is polled as the kubelet would, within the probe's own budget (initialDelay +
 * failureThreshold * period). A probe on the livenessprobe sidecar's port is the plugin's CSI Probe over the socket the
 * sidecar's args name, asked as the sidecar does: docker/csi-probe.sh.
 * <p>
 * What our pods need runs too: the chart's etcd pod (Debian's etcd for the image's, member 0 as a one-member
 * cluster: every client URL of the chart resolves to it), the chart's PostgreSQL (its image's entry point played by
 * ClusterStandIns, its exec probes run), the Kubernetes API (ClusterStandIns). Those and the core agent keep running
 * while the pods after them run (the io-engine's init container asks the agent for its node certificate); every other
 * pod runs alone and is stopped before the next.
 */
class ChartSmokeTest {
    /** Images we build that this test runs, by repository. */
    private static final Map<String, Image> OURS = Map.of(
            "javastor/csi", new Image("csi.Dockerfile", "javastor.test.csi.jar"),
            "javastor/rest-gateway", new Image("rest-gateway.Dockerfile", JavaProcess.GATEWAY_JAR),
            "javastor/core-agent", new Image("core-agent.Dockerfile", JavaProcess.CORE_AGENT_JAR),
            "javastor/io-engine", new Image("io-engine.Dockerfile", JavaProcess.IO_ENGINE_JAR),
            "javastor/diskpool-operator", new Image("diskpool-operator.Dockerfile", "javastor.test.operator.jar"));
    /** Pods the later ones need, in the order they start; they keep running until the end. */
    private static final List<String> NEEDED = List.of("etcd", "postgresql", "core-agent");
    /** An init container's deadline (the node-certificate one would retry for 5 minutes: it gets its answer in seconds here). */
    private static final Duration INIT_DEADLINE = Duration.ofSeconds(120);
    /** The kubelet does not verify an HTTPS probe's certificate: neither does this client. */
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).sslContext(trustAll()).build();

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"defaults", "non-default"})
    void everyContainerOfOursPassesItsProbes(String values) throws Exception {
        long started = System.nanoTime();
        Manifests m = Chart.render(values.equals("defaults") ? "" : NonDefaultValues.EVERYTHING_ON);
        Map<Integer, Integer> ports = ContainerLaunch.portsOf(m);
        List<String> skipped = new ArrayList<>();
        List<String> passed = new ArrayList<>();
        List<Map<String, Object>> workloads = m.workloads()
                .sorted(Comparator.comparingInt(w -> {
                    int i = NEEDED.indexOf(component(w));
                    return i < 0 ? NEEDED.size() : i;
                })).toList();
        Map<String, Object> ioEngine = m.workloads().filter(w -> component(w).equals("io-engine")).findFirst().orElseThrow();
        List<Process> needed = new ArrayList<>();
        try (ClusterStandIns cluster = new ClusterStandIns(Chart.NAMESPACE + ":" + str(podSpec(ioEngine), "serviceAccountName"),
                ContainerLaunch.podName(ioEngine))) {
            try {
                for (Map<String, Object> workload : workloads) {
                    List<Process> pod = new ArrayList<>();
                    try {
                        runPod(m, workload, ports, cluster, pod, passed, skipped);
                    } finally {
                        if (NEEDED.contains(component(workload))) {
                            needed.addAll(pod);
                        } else {
                            stop(pod);
                        }
                    }
                }
            } finally {
                java.util.Collections.reverse(needed); // the core agent before etcd
                stop(needed);
            }
        }
        System.out.printf("%s values (%d s):%n  passed: %s%n  skipped: %s%n", values,
                Duration.ofNanos(System.nanoTime() - started).toSeconds(), passed, skipped);
        assertThat(passed).as("containers run").isNotEmpty();
        for (Map<String, Object> w : workloads) {
            for (Map<String, Object> c : containers(w)) {
                if (OURS.containsKey(repository(str(c, "image")))) {
                    assertThat(passed).as("every container of ours ran").anyMatch(p -> p.startsWith(Manifests.name(w) + "/" + str(c, "name") + " "));
                }
            }
        }
    }

    /** One pod: its init containers to completion, then each container of ours (or with a stand-in here) and its probes. */
    private void runPod(Manifests m, Map<String, Object> workload, Map<Integer, Integer> ports, ClusterStandIns cluster,
                        List<Process> processes, List<String> passed, List<String> skipped) throws Exception {
        String name = Manifests.name(workload);
        Path podDir = Files.createDirectories(tmp.resolve(name));
        for (Map<String, Object> init : initContainers(workload)) {
            String id = name + "/" + str(init, "name");
            Image image = OURS.get(repository(str(init, "image")));
            List<String> command = commandOf(init);
            if (image == null || !command.get(0).equals("java")) {
                // e.g. the CSI node's modprobe: it changes the node's kernel, which this test must not do to the machine running it.
                skipped.add(id + ": init container not running our jar, not run (it would change this machine: "
                        + String.join(" ", command) + ")");
                continue;
            }
            ContainerLaunch launch = new ContainerLaunch(m, workload, init, image, podDir, ports, List.of());
            Path log = podDir.resolve(str(init, "name") + ".log");
            Process p = launch.processBuilder(log).start();
            processes.add(p);
            if (!p.waitFor(INIT_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
                throw new AssertionError(id + ": init container did not end within " + INIT_DEADLINE.toSeconds() + " s:\n" + tail(log));
            }
            assertThat(p.exitValue()).as(id + " (init container) exit code; its output:\n" + tail(log)).isZero();
            passed.add(id + " [ran to completion]");
        }
        for (Map<String, Object> c : containers(workload)) {
            String id = name + "/" + str(c, "name");
            String repo = repository(str(c, "image"));
            Image image = OURS.get(repo);
            if (image == null && !component(workload).equals("etcd") && !component(workload).equals("postgresql")) {
                skipped.add(id + ": third-party image " + str(c, "image") + " (not built by us)");
                continue;
            }
            ContainerLaunch launch = new ContainerLaunch(m, workload, c, image, podDir, ports, clusterJvmOptions(repo, podDir, cluster));
            Path log = podDir.resolve(str(c, "name") + ".log");
            Process process;
            if (component(workload).equals("postgresql")) {
                cluster.postgres(launch.env, launch.rewrite.port((Integer) items(c, "ports").get(0).get("containerPort")));
                process = null;
            } else {
                if (component(workload).equals("etcd")) {
                    // Member 0 alone: the others would be a process each; the client URLs of every member resolve to it.
                    launch.command.replaceAll(a -> a.startsWith("--initial-cluster=") ? a.replaceFirst(",.*", "") : a);
                }
                if (repo.equals("javastor/diskpool-operator")) {
                    // The in-cluster configuration of fabric8's client, pointing at the stand-in (the SA files are not at /var/run here).
                    launch.env.put("KUBERNETES_MASTER", cluster.kubernetesUrl());
                    launch.env.put("KUBERNETES_AUTH_TRYKUBECONFIG", "false");
                    launch.env.put("KUBERNETES_AUTH_SERVICEACCOUNT_TOKEN", podDir.resolve("volumes/kube-api-access/token").toString());
                    launch.env.put("KUBERNETES_NAMESPACE", Chart.NAMESPACE);
                }
                System.out.printf("%s: %s%n  env %s%n", id, launch.command, launch.env);
                process = launch.processBuilder(log).start();
                processes.add(process);
            }
            passed.add(probe(launch, workload, image != null, process, log));
        }
    }

    /**
     * JVM options standing for what the cluster gives a pod: the core agent reaches the Kubernetes API (for node
     * certificates) at kubernetes.default.svc with the mounted ServiceAccount token; here the stand-in, and the token
     * where this test mounted it.
     */
    private static List<String> clusterJvmOptions(String repo, Path podDir, ClusterStandIns cluster) {
        if (!repo.equals("javastor/core-agent")) {
            return List.of();
        }
        return List.of("-Djavastor.core.node-certificates.kubernetes.api-server=" + cluster.kubernetesUrl(),
                "-Djavastor.core.node-certificates.kubernetes.token-file=" + podDir.resolve("volumes/kube-api-access/token"));
    }

    /** Polls the container's probes in the kubelet's order; scrapes a metrics port of ours; returns what passed. */
    private String probe(ContainerLaunch launch, Map<String, Object> workload, boolean ours, Process process, Path log) throws Exception {
        Map<String, Object> c = launch.container;
        List<String> done = new ArrayList<>();
        for (String kind : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> probe = (Map<String, Object>) c.get(kind);
            if (probe != null) {
                poll(launch, kind, probe, workload, process, log);
                done.add(kind);
            }
        }
        assertThat(done).as(launch.id + " has probes").isNotEmpty();
        // A port of ours named metrics is scraped as Prometheus would (the probes above were calls, so there are series).
        for (Map<String, Object> p : items(c, "ports")) {
            if (ours && "metrics".equals(p.get("name"))) {
                URI uri = URI.create("http://127.0.0.1:" + launch.rewrite.port((Integer) p.get("containerPort")) + "/metrics");
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(launch.id + " " + uri).isEqualTo(200);
                assertThat(r.body()).as(launch.id + " " + uri).contains("javastor_");
                done.add("metrics");
            }
        }
        return launch.id + " " + done;
    }

    private void poll(ContainerLaunch launch, String kind, Map<String, Object> probe, Map<String, Object> workload, Process process, Path log) {
        int initial = intOr(probe, "initialDelaySeconds", 0);
        int period = intOr(probe, "periodSeconds", 10);
        int failures = intOr(probe, "failureThreshold", 3);
        Duration budget = Duration.ofSeconds(initial + (long) failures * period);
        AtomicReference<String> last = new AtomicReference<>("not asked yet");
        long t0 = System.nanoTime();
        try {
            await(launch.id + " " + kind).atMost(budget).pollInterval(Duration.ofMillis(500)).until(() -> {
                if (process != null && !process.isAlive()) {
                    throw new AssertionError(launch.id + " exited with " + process.exitValue() + " before its " + kind + " passed:\n" + tail(log));
                }
                String answer = ask(probe, workload, launch);
                last.set(answer);
                return answer.startsWith("ok");
            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(launch.id + " " + kind + " did not pass within " + budget.toSeconds() + " s (its budget); last answer: "
                    + last.get() + "\n" + tail(log), e);
        }
        System.out.printf("%s %s passed after %d ms (budget %d s)%n", launch.id, kind, Duration.ofNanos(System.nanoTime() - t0).toMillis(),
                budget.toSeconds());
    }

    /** One probe attempt, as the kubelet makes it; "ok ..." when it passes, else what was answered. */
    private String ask(Map<String, Object> probe, Map<String, Object> workload, ContainerLaunch launch) throws Exception {
        Map<String, Object> c = launch.container;
        Rewrite rewrite = launch.rewrite;
        int timeout = intOr(probe, "timeoutSeconds", 1);
        if (probe.get("httpGet") != null) {
            Map<String, Object> get = map(probe, "httpGet");
            Map<String, Object> owner = portOwner(workload, c, get.get("port"));
            int port = portNumber(c, get.get("port")); // a name is the probed container's own
            if (str(owner, "image").contains("/livenessprobe:")) {
                // The livenessprobe sidecar answers /healthz with the plugin's CSI Probe on --csi-address: ask it so.
                String address = list0(owner, "args").stream().map(Object::toString).filter(a -> a.startsWith("--csi-address="))
                        .findFirst().orElseThrow(() -> new AssertionError(str(owner, "name") + " names no --csi-address"))
                        .substring("--csi-address=".length());
                String socket = rewrite.withMounts(ContainerLaunch.mountsOf(owner, rewrite)).apply(address);
                return run(List.of("sh", Chart.repoRoot().resolve("docker/csi-probe.sh").toString(), "unix://" + socket), Map.of(), timeout,
                        "CSI Probe on " + socket);
            }
            String scheme = Objects.requireNonNullElse((String) get.get("scheme"), "HTTP").toLowerCase();
            URI uri = URI.create(scheme + "://127.0.0.1:" + rewrite.port(port) + Objects.requireNonNullElse((String) get.get("path"), "/"));
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(timeout)).build(),
                        HttpResponse.BodyHandlers.ofString());
                return (r.statusCode() >= 200 && r.statusCode() < 400 ? "ok " : "") + uri + " answered " + r.statusCode() + " " + r.body();
            } catch (IOException e) {
                return uri + ": " + e;
            }
        }
        if (probe.get("tcpSocket") != null) {
            int port = rewrite.port(portNumber(c, at(probe, "tcpSocket", "port")));
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), timeout * 1000);
                return "ok connected to " + port;
            } catch (IOException e) {
                return "tcp " + port + ": " + e;
            }
        }
        if (probe.get("exec") != null) {
            // In the container's environment; the PostgreSQL image's tools (pg_isready) are Debian's server binaries here.
            List<String> command = list0(map(probe, "exec"), "command").stream().map(o -> rewrite.apply(o.toString())).toList();
            Map<String, String> env = new java.util.HashMap<>(launch.env);
            env.put("PATH", ClusterStandIns.postgresBin() + ":" + System.getenv("PATH"));
            return run(command, env, timeout, "exec " + command);
        }
        throw new AssertionError("probe kind not run by this test yet: " + probe.keySet());
    }

    /** A probe's command: "ok ..." on exit 0 within its timeout (plus a JVM-free margin of 5 s for a loaded machine). */
    private static String run(List<String> command, Map<String, String> env, int timeout, String what) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(timeout + 5L, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return what + " timed out";
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        return (p.exitValue() == 0 ? "ok " : "") + what + " exit " + p.exitValue() + ": " + out;
    }

    /** The container of the pod that declares a named port (or this one, for a number). */
    private static Map<String, Object> portOwner(Map<String, Object> workload, Map<String, Object> c, Object port) {
        if (port instanceof Integer n) {
            return containers(workload).stream().filter(o -> items(o, "ports").stream().anyMatch(p -> n.equals(p.get("containerPort"))))
                    .filter(o -> !str(o, "image").equals(str(c, "image")) || o == c)
                    .findFirst().orElse(c);
        }
        // A named port: the container serving it. The CSI plugins declare the sidecar's healthz port too (it is the pod's),
        // so the sidecar that is told to listen on that number is the one answering.
        int number = portNumber(c, port);
        return containers(workload).stream().filter(o -> o != c && list0(o, "args").stream()
                        .anyMatch(a -> a.toString().equals("--health-port=" + number)))
                .findFirst().orElse(c);
    }

    private static int portNumber(Map<String, Object> container, Object port) {
        if (port instanceof Integer n) {
            return n;
        }
        return items(container, "ports").stream().filter(p -> port.equals(p.get("name"))).map(p -> (Integer) p.get("containerPort"))
                .findFirst().orElseThrow(() -> new AssertionError(str(container, "name") + " declares no port named " + port));
    }

    // --- small helpers

    private static void stop(List<Process> processes) throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
    }

    private static String component(Map<String, Object> workload) {
        return Objects.requireNonNullElse((String) at(workload, "metadata", "labels", "app.kubernetes.io/component"), "");
    }

    private static String repository(String image) {
        String noTag = image.replaceFirst(":[^:/]+$", "");
        String[] parts = noTag.split("/");
        return parts.length < 2 ? noTag : parts[parts.length - 2] + "/" + parts[parts.length - 1];
    }

    private static List<String> commandOf(Map<String, Object> c) {
        List<String> all = new ArrayList<>();
        list0(c, "command").forEach(o -> all.add(o.toString()));
        list0(c, "args").forEach(o -> all.add(o.toString()));
        return all;
    }

    private static int intOr(Map<String, Object> probe, String key, int fallback) {
        Object v = probe.get(key);
        return v == null ? fallback : (Integer) v;
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static javax.net.ssl.SSLContext trustAll() {
        try {
            javax.net.ssl.SSLContext ssl = javax.net.ssl.SSLContext.getInstance("TLS");
            ssl.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
                public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String auth) {
                }

                public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String auth) {
                }

                public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                    return new java.security.cert.X509Certificate[0];
                }
            }}, null);
            return ssl;
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
