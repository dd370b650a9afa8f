package io.javastor.deploy;

import io.javastor.testsupport.FreePorts;
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
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.javastor.deploy.Manifests.at;
import static io.javastor.deploy.Manifests.containers;
import static io.javastor.deploy.Manifests.initContainers;
import static io.javastor.deploy.Manifests.list;
import static io.javastor.deploy.Manifests.map;
import static io.javastor.deploy.Manifests.podSpec;
import static io.javastor.deploy.Manifests.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The chart's containers run for real (issue 17): each container of ours starts the same exec jar with the image's
 * environment (its Dockerfile's ENV), then the container's args and env (valueFrom resolved from the rendered
 * objects or the pod's fields), its ConfigMap/Secret volumes written to a temp dir and every mount path rewritten to
 * it, each declared port remapped to a free loopback port (and 0.0.0.0 to loopback); then each startup, liveness and
 * readiness probe is polled as the kubelet would, within the probe's own budget (initialDelay + failureThreshold *
 * period). A probe on the livenessprobe sidecar's port is the plugin's CSI Probe over the socket the sidecar's args
 * name, asked as the sidecar (and the image's HEALTHCHECK) does: docker/csi-probe.sh. One pod at a time.
 */
class ChartSmokeTest {
    /** Images we build that this test runs: repository suffix, Dockerfile, exec jar property. */
    private record Ours(String dockerfile, String jarProperty) {
    }

    private static final Map<String, Ours> RUN = Map.of("javastor/csi", new Ours("csi.Dockerfile", "javastor.test.csi.jar"),
            "javastor/rest-gateway", new Ours("rest-gateway.Dockerfile", JavaProcess.GATEWAY_JAR));
    private static final Pattern PORT_BOUNDARY = Pattern.compile("(?<![\\w.])%s(?![\\w])");
    /** The kubelet does not verify an HTTPS probe's certificate: neither does this client. */
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).sslContext(trustAll()).build();

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

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"defaults", "non-default"})
    void everyContainerOfOursPassesItsProbes(String values) throws Exception {
        Manifests m = Chart.render(values.equals("defaults") ? "" : NonDefaultValues.EVERYTHING_ON);
        List<String> skipped = new ArrayList<>();
        List<String> notRunYet = new ArrayList<>();
        List<String> passed = new ArrayList<>();
        List<Map<String, Object>> workloads = m.workloads().toList();
        for (Map<String, Object> workload : workloads) {
            String pod = Manifests.name(workload);
            for (Map<String, Object> init : initContainers(workload)) {
                skipped.add(pod + "/" + str(init, "name") + ": init container, not run (no probes; it runs to completion before the pod's containers): "
                        + String.join(" ", commandOf(init)));
            }
            for (Map<String, Object> c : containers(workload)) {
                String image = str(c, "image");
                String repo = repository(image);
                String id = pod + "/" + str(c, "name");
                if (!repo.startsWith("javastor/")) {
                    skipped.add(id + ": third-party image " + image + " (not built by us)");
                } else if (!RUN.containsKey(repo)) {
                    notRunYet.add(id + " (" + repo + ")");
                } else {
                    passed.add(run(m, workload, c, RUN.get(repo)));
                }
            }
        }
        System.out.printf("%s values:%n  passed: %s%n  skipped: %s%n  ours, not run by this test yet: %s%n", values,
                passed, skipped, notRunYet);
        assertThat(passed).as("containers run").isNotEmpty();
    }

    /** Runs one container and polls its probes; returns what passed. */
    private String run(Manifests m, Map<String, Object> workload, Map<String, Object> c, Ours ours) throws Exception {
        String id = Manifests.name(workload) + "/" + str(c, "name");
        assertThat(at(c, "command")).as(id + ": a command replaces the image's java entry point; not run here").isNull();
        Path podDir = Files.createDirectories(tmp.resolve(Manifests.name(workload)));
        Map<String, Object> spec = podSpec(workload);

        // Ports: each declared container port of the pod (sidecars' too, a probe may name them) to a free one.
        Map<Integer, Integer> ports = new LinkedHashMap<>();
        for (Map<String, Object> any : containers(workload)) {
            for (Map<String, Object> p : items(any, "ports")) {
                ports.putIfAbsent((Integer) p.get("containerPort"), FreePorts.next());
            }
        }
        Rewrite rewrite = new Rewrite(mounts(m, spec, c, podDir), ports, podDir.resolve("volumes"));
        materialize(m, spec, c, podDir, rewrite);

        Map<String, String> env = new LinkedHashMap<>(imageEnv(ours.dockerfile()));
        for (Map<String, Object> e : items(c, "env")) {
            env.put(str(e, "name"), envValue(m, workload, e));
        }
        env.replaceAll((k, v) -> rewrite.apply(v));
        List<String> args = new ArrayList<>();
        for (Object a : list0(c, "args")) {
            args.add(rewrite.apply(expand(a.toString(), env)));
        }

        Path log = podDir.resolve(str(c, "name") + ".log");
        ProcessBuilder pb = new ProcessBuilder(JavaProcess.command(JavaProcess.Program.jar(ours.jarProperty()), List.of(), args))
                .redirectErrorStream(true).redirectOutput(log.toFile()).directory(podDir.toFile());
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().putAll(env);
        System.out.printf("%s: env %s args %s ports %s%n", id, env, args, ports);
        Process process = pb.start();
        try {
            List<String> done = new ArrayList<>();
            for (String kind : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
                Map<String, Object> probe = map0(c, kind);
                if (probe != null) {
                    poll(id, kind, probe, workload, c, rewrite, process, log);
                    done.add(kind);
                }
            }
            assertThat(done).as(id + " has probes").isNotEmpty();
            // A port named metrics is scraped as Prometheus would (the probes above were calls, so there are series).
            for (Map<String, Object> p : items(c, "ports")) {
                if ("metrics".equals(p.get("name"))) {
                    URI uri = URI.create("http://127.0.0.1:" + rewrite.port((Integer) p.get("containerPort")) + "/metrics");
                    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(r.statusCode()).as(id + " " + uri).isEqualTo(200);
                    assertThat(r.body()).as(id + " " + uri).contains("javastor_");
                    done.add("metrics");
                }
            }
            return id + " " + done;
        } finally {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    private void poll(String id, String kind, Map<String, Object> probe, Map<String, Object> workload, Map<String, Object> c,
                      Rewrite rewrite, Process process, Path log) {
        int initial = intOr(probe, "initialDelaySeconds", 0);
        int period = intOr(probe, "periodSeconds", 10);
        int failures = intOr(probe, "failureThreshold", 3);
        Duration budget = Duration.ofSeconds(initial + (long) failures * period);
        AtomicReference<String> last = new AtomicReference<>("not asked yet");
        try {
            await(id + " " + kind).atMost(budget).pollInterval(Duration.ofMillis(500)).until(() -> {
                if (!process.isAlive()) {
                    throw new AssertionError(id + " exited with " + process.exitValue() + " before its " + kind + " passed:\n" + tail(log));
                }
                String answer = ask(probe, workload, c, rewrite);
                last.set(answer);
                return answer.startsWith("ok");
            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(id + " " + kind + " did not pass within " + budget.toSeconds() + " s (its budget); last answer: "
                    + last.get() + "\n" + tail(log), e);
        }
    }

    /** One probe attempt, as the kubelet makes it; "ok ..." when it passes, else what was answered. */
    private String ask(Map<String, Object> probe, Map<String, Object> workload, Map<String, Object> c, Rewrite rewrite) throws Exception {
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
                Rewrite sidecar = rewrite.withMounts(mountsOf(owner, rewrite));
                String socket = sidecar.apply(address);
                Process probeRun = new ProcessBuilder("sh", Chart.repoRoot().resolve("docker/csi-probe.sh").toString(), "unix://" + socket)
                        .redirectErrorStream(true).start();
                if (!probeRun.waitFor(timeout + 5L, TimeUnit.SECONDS)) {
                    probeRun.destroyForcibly();
                    return "CSI Probe on " + socket + " timed out";
                }
                String out = new String(probeRun.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                return probeRun.exitValue() == 0 ? "ok CSI Probe ready on " + socket : "CSI Probe on " + socket + ": " + out;
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
            Object named = at(probe, "tcpSocket", "port");
            int port = rewrite.port(portNumber(c, named));
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), timeout * 1000);
                return "ok connected to " + port;
            } catch (IOException e) {
                return "tcp " + port + ": " + e;
            }
        }
        throw new AssertionError("probe kind not run by this test yet: " + probe.keySet());
    }

    // --- the container's file system: volumes written to the pod's temp dir, mount paths mapped to them

    private static Map<String, Path> mounts(Manifests m, Map<String, Object> spec, Map<String, Object> c, Path podDir) {
        Map<String, Path> mounts = new LinkedHashMap<>();
        for (Map<String, Object> vm : items(c, "volumeMounts")) {
            Path dir = podDir.resolve("volumes").resolve(str(vm, "name"));
            String sub = (String) vm.get("subPath");
            mounts.put(str(vm, "mountPath"), sub == null ? dir : dir.resolve(sub));
        }
        if (!Boolean.FALSE.equals(spec.get("automountServiceAccountToken"))) {
            mounts.put("/var/run/secrets/kubernetes.io/serviceaccount", podDir.resolve("volumes").resolve("kube-api-access"));
        }
        return mounts;
    }

    private static Map<String, Path> mountsOf(Map<String, Object> sidecar, Rewrite pod) {
        Map<String, Path> mounts = new LinkedHashMap<>();
        Path volumes = pod.volumesDir();
        for (Map<String, Object> vm : items(sidecar, "volumeMounts")) {
            mounts.put(str(vm, "mountPath"), volumes.resolve(str(vm, "name")));
        }
        return mounts;
    }

    /** Writes the container's volumes: ConfigMap and Secret keys as files (text rewritten), others as empty dirs. */
    private static void materialize(Manifests m, Map<String, Object> spec, Map<String, Object> c, Path podDir, Rewrite rewrite)
            throws IOException {
        Path volumes = podDir.resolve("volumes");
        Files.createDirectories(volumes.resolve("kube-api-access"));
        Files.writeString(volumes.resolve("kube-api-access/token"), "smoke-test-token");
        Files.writeString(volumes.resolve("kube-api-access/namespace"), Chart.NAMESPACE);
        for (Map<String, Object> vm : items(c, "volumeMounts")) {
            String name = str(vm, "name");
            Map<String, Object> volume = list(spec, "volumes").stream().filter(v -> name.equals(v.get("name"))).findFirst()
                    .orElseThrow(() -> new AssertionError(str(c, "name") + " mounts volume " + name + ", which the pod does not declare"));
            Path dir = Files.createDirectories(volumes.resolve(name));
            if (volume.get("configMap") != null) {
                Map<String, Object> cm = m.get("ConfigMap", str(volume, "configMap", "name"));
                for (var e : map(cm, "data").entrySet()) {
                    Files.writeString(dir.resolve(e.getKey()), rewrite.apply(e.getValue().toString()));
                }
            } else if (volume.get("secret") != null) {
                Map<String, Object> secret = m.get("Secret", str(volume, "secret", "secretName"));
                for (var e : secretData(secret).entrySet()) {
                    Files.writeString(dir.resolve(e.getKey()), e.getValue());
                }
            } else if (volume.get("projected") != null) {
                for (Map<String, Object> source : list(volume, "projected", "sources")) {
                    if (source.get("serviceAccountToken") != null) {
                        Files.writeString(dir.resolve(str(source, "serviceAccountToken", "path")), "smoke-test-token");
                    } else if (source.get("configMap") != null) {
                        for (var e : map(m.get("ConfigMap", str(source, "configMap", "name")), "data").entrySet()) {
                            Files.writeString(dir.resolve(e.getKey()), e.getValue().toString());
                        }
                    }
                }
            }
            // emptyDir, hostPath: the empty directory is the volume.
        }
    }

    private static Map<String, String> secretData(Map<String, Object> secret) {
        Map<String, String> data = new LinkedHashMap<>();
        if (secret.get("data") != null) {
            map(secret, "data").forEach((k, v) -> data.put(k, new String(Base64.getDecoder().decode(v.toString()), StandardCharsets.UTF_8)));
        }
        if (secret.get("stringData") != null) {
            map(secret, "stringData").forEach((k, v) -> data.put(k, v.toString()));
        }
        return data;
    }

    // --- environment

    /** The image's ENV (its Dockerfile's last stage), which the container's env then extends or overrides. */
    static Map<String, String> imageEnv(String dockerfile) throws IOException {
        String text = Files.readString(Chart.repoRoot().resolve("docker").resolve(dockerfile));
        String lastStage = text.substring(text.lastIndexOf("\nFROM "));
        Map<String, String> env = new LinkedHashMap<>();
        Matcher stmt = Pattern.compile("(?m)^ENV\\s+((?:.*\\\\\\n)*.*)$").matcher(lastStage);
        while (stmt.find()) {
            Matcher kv = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\\S+)").matcher(stmt.group(1).replace("\\\n", " "));
            while (kv.find()) {
                String v = kv.group(2);
                env.put(kv.group(1), v.startsWith("\"") ? v.substring(1, v.length() - 1) : v);
            }
        }
        return env;
    }

    private static String envValue(Manifests m, Map<String, Object> workload, Map<String, Object> e) {
        if (e.get("value") != null) {
            return e.get("value").toString();
        }
        Map<String, Object> from = map(e, "valueFrom");
        if (from.get("fieldRef") != null) {
            String field = str(from, "fieldRef", "fieldPath");
            return switch (field) {
                case "metadata.name" -> Manifests.name(workload) + "-smoke";
                case "metadata.namespace" -> Chart.NAMESPACE;
                case "status.podIP", "status.hostIP" -> "127.0.0.1";
                case "spec.nodeName" -> "smoke-node";
                default -> throw new AssertionError(str(e, "name") + ": fieldRef " + field + " not known to this test");
            };
        }
        if (from.get("configMapKeyRef") != null) {
            return str(m.get("ConfigMap", str(from, "configMapKeyRef", "name")), "data", str(from, "configMapKeyRef", "key"));
        }
        if (from.get("secretKeyRef") != null) {
            return secretData(m.get("Secret", str(from, "secretKeyRef", "name"))).get(str(from, "secretKeyRef", "key"));
        }
        throw new AssertionError(str(e, "name") + ": valueFrom " + from.keySet() + " not known to this test");
    }

    /** $(VAR) in args, as the kubelet expands them. */
    private static String expand(String arg, Map<String, String> env) {
        Matcher v = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)").matcher(arg);
        return v.replaceAll(r -> Matcher.quoteReplacement(env.getOrDefault(r.group(1), r.group())));
    }

    // --- the rewriting of paths and ports

    /** Mount paths to the temp dir (longest first, whole path segments only), ports to free ones, 0.0.0.0 to loopback. */
    private record Rewrite(Map<String, Path> mounts, Map<Integer, Integer> ports, Path volumesDir) {
        String apply(String text) {
            // One pass over all mount paths (longest first): a replaced path is never rewritten again (/tmp inside it).
            List<String> paths = new ArrayList<>(mounts.keySet());
            paths.sort(Comparator.comparingInt(String::length).reversed());
            String out = text;
            if (!paths.isEmpty()) {
                String any = String.join("|", paths.stream().map(Pattern::quote).toList());
                out = Pattern.compile("(?<![\\w.-])(" + any + ")(?=/|$|[^\\w.-])").matcher(out)
                        .replaceAll(r -> Matcher.quoteReplacement(mounts.get(r.group(1)).toString()));
            }
            for (var e : ports.entrySet()) {
                out = Pattern.compile(String.format(PORT_BOUNDARY.pattern(), e.getKey())).matcher(out).replaceAll(e.getValue().toString());
            }
            return out.replace("0.0.0.0", "127.0.0.1");
        }

        int port(int containerPort) {
            return Objects.requireNonNull(ports.get(containerPort), "port " + containerPort + " is declared by no container of the pod");
        }

        Rewrite withMounts(Map<String, Path> other) {
            return new Rewrite(other, ports, volumesDir);
        }
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

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> items(Map<String, Object> c, String key) {
        Object v = c.get(key);
        return v == null ? List.of() : (List<Map<String, Object>>) v;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list0(Map<String, Object> c, String key) {
        Object v = c.get(key);
        return v == null ? List.of() : (List<Object>) v;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map0(Map<String, Object> c, String key) {
        return (Map<String, Object>) c.get(key);
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
}
