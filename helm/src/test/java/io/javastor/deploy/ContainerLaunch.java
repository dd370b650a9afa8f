package io.javastor.deploy;

import io.javastor.testsupport.JavaProcess;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.javastor.deploy.Manifests.list;
import static io.javastor.deploy.Manifests.map;
import static io.javastor.deploy.Manifests.podSpec;
import static io.javastor.deploy.Manifests.str;

/**
 * How one rendered container runs on this machine (ChartSmokeTest): the image's environment (its Dockerfile's ENV),
 * then the container's env (valueFrom resolved from the rendered objects or the pod's fields) and args ($(VAR)
 * expanded); its ConfigMap/Secret/projected volumes written under the pod's temp dir, every mount path rewritten to
 * it; the image's own files (/opt/javastor: the exec jar's layers, as the Dockerfile extracts them) for a container
 * whose command names them; each declared port of the chart to a free loopback port, the cluster's Service names
 * (*.NAMESPACE.svc) to loopback, and 0.0.0.0 to loopback.
 */
final class ContainerLaunch {
    /** An image we build: its Dockerfile and the system property naming its exec jar. */
    record Image(String dockerfile, String jarProperty) {
    }

    /** Binaries of this machine that stand for a command's first word (a third-party image's, or our image's JRE). */
    static final Map<String, String> BINARIES = Map.of("java", JavaProcess.java(), "etcd", "/usr/bin/etcd", "sh", "sh");

    private static final Pattern PORT_BOUNDARY = Pattern.compile("(?<![\\w.])%s(?![\\w])");

    final String id;
    final Map<String, Object> container;
    final Rewrite rewrite;
    final Map<String, String> env = new LinkedHashMap<>();
    final List<String> command = new ArrayList<>();

    /**
     * @param image       ours (exec jar, Dockerfile ENV), or null for a third-party image run with {@link #BINARIES}
     * @param ports       each containerPort of the render to its free loopback port
     * @param jvmOptions  extra JVM options (what the cluster gives a pod and this machine lacks, see ChartSmokeTest)
     */
    ContainerLaunch(Manifests m, Map<String, Object> workload, Map<String, Object> c, Image image, Path podDir,
                    Map<Integer, Integer> ports, List<String> jvmOptions) throws IOException {
        this.id = Manifests.name(workload) + "/" + str(c, "name");
        this.container = c;
        Map<String, Object> spec = podSpec(workload);
        Map<String, Path> mounts = mounts(spec, c, podDir);
        List<Object> cmd = list0(c, "command");
        if (image != null && !cmd.isEmpty()) {
            // The command names the image's files (e.g. -cp /opt/javastor/app.jar): the exec jar extracted as the Dockerfile does.
            mounts.put("/opt/javastor", exploded(JavaProcess.execJar(image.jarProperty()), podDir.getParent().resolve("images")));
        }
        this.rewrite = new Rewrite(mounts, ports, podDir.resolve("volumes"));
        materialize(m, workload, c, podDir, rewrite);

        if (image != null) {
            env.putAll(imageEnv(image.dockerfile()));
        }
        for (Map<String, Object> e : items(c, "env")) {
            env.put(str(e, "name"), envValue(m, workload, e));
        }
        env.replaceAll((k, v) -> rewrite.apply(v));
        List<String> args = new ArrayList<>();
        for (Object a : list0(c, "args")) {
            args.add(rewrite.apply(expand(a.toString(), env)));
        }
        if (cmd.isEmpty()) {
            if (image == null) {
                return; // a third-party image's own entry point: the caller runs its stand-in (ClusterStandIns)
            }
            // The image's entry point runs the jar with the class archive trained at its build; here the one the other
            // modules' tests made for the same jar stands for it, where they made one (none is trained for a chart's start).
            command.addAll(JavaProcess.commandIfArchived(image.jarProperty(), jvmOptions, args));
        } else {
            String first = cmd.get(0).toString();
            command.add(Objects.requireNonNull(BINARIES.get(first), () -> id + ": command " + first + " has no stand-in on this machine"));
            if (first.equals("java")) {
                command.addAll(jvmOptions);
            }
            cmd.subList(1, cmd.size()).forEach(a -> command.add(rewrite.apply(expand(a.toString(), env))));
            command.addAll(args);
        }
    }

    /** A process of it, in the pod's dir, with only the image's and the container's environment (and this machine's PATH). */
    ProcessBuilder processBuilder(Path log) {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .directory(rewrite.volumesDir().getParent().toFile());
        String path = pb.environment().get("PATH");
        pb.environment().clear(); // nothing of the test's environment (KUBECONFIG, JAVA_TOOL_OPTIONS) leaks in
        pb.environment().put("PATH", path);
        pb.environment().putAll(env);
        return pb;
    }

    /**
     * The exec jar's files as the image holds them under /opt/javastor (the Dockerfile's `jarmode=tools extract`: app.jar,
     * whose manifest names lib/*.jar), once per run. Not the image's class archive (app.jsa): a JVM here runs without it.
     */
    private static synchronized Path exploded(Path jar, Path imagesDir) throws IOException {
        Path dir = imagesDir.resolve(jar.getFileName().toString().replace(".jar", ""));
        if (!Files.isRegularFile(dir.resolve("app.jar"))) {
            Files.createDirectories(imagesDir);
            try {
                JavaProcess.extractBootJar(jar, dir, imagesDir.resolve(dir.getFileName() + ".extract.log"), "--application-filename", "app.jar");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
        return dir;
    }

    // --- the container's file system: volumes written to the pod's temp dir, mount paths mapped to them

    private static Map<String, Path> mounts(Map<String, Object> spec, Map<String, Object> c, Path podDir) {
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

    /** A sidecar's mounts of the pod's volumes (the CSI socket's dir, for the livenessprobe sidecar's address). */
    static Map<String, Path> mountsOf(Map<String, Object> sidecar, Rewrite pod) {
        Map<String, Path> mounts = new LinkedHashMap<>();
        for (Map<String, Object> vm : items(sidecar, "volumeMounts")) {
            mounts.put(str(vm, "mountPath"), pod.volumesDir().resolve(str(vm, "name")));
        }
        return mounts;
    }

    /** Writes the container's volumes: ConfigMap and Secret keys as files (text rewritten), others as empty dirs. */
    private static void materialize(Manifests m, Map<String, Object> workload, Map<String, Object> c, Path podDir, Rewrite rewrite)
            throws IOException {
        Map<String, Object> spec = podSpec(workload);
        // A StatefulSet's claims are volumes too: an empty directory here, like a new PersistentVolume.
        List<Map<String, Object>> volumesOfPod = new ArrayList<>(items(spec, "volumes"));
        items(map(workload, "spec"), "volumeClaimTemplates").forEach(t -> volumesOfPod.add(Map.of("name", str(t, "metadata", "name"))));
        Path volumes = podDir.resolve("volumes");
        Files.createDirectories(volumes.resolve("kube-api-access"));
        Files.writeString(volumes.resolve("kube-api-access/token"), "smoke-test-token");
        Files.writeString(volumes.resolve("kube-api-access/namespace"), Chart.NAMESPACE);
        for (Map<String, Object> vm : items(c, "volumeMounts")) {
            String name = str(vm, "name");
            Map<String, Object> volume = volumesOfPod.stream().filter(v -> name.equals(v.get("name"))).findFirst()
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
                        // The kubelet's token for this pod; the Kubernetes API stand-in knows it (ClusterStandIns.POD_TOKEN).
                        Files.writeString(dir.resolve(str(source, "serviceAccountToken", "path")), ClusterStandIns.POD_TOKEN);
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

    static Map<String, String> secretData(Map<String, Object> secret) {
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

    /** The pod's name: a StatefulSet's first pod, or a made-up one for a Deployment's or DaemonSet's. */
    static String podName(Map<String, Object> workload) {
        return Manifests.name(workload) + ("StatefulSet".equals(workload.get("kind")) ? "-0" : "-smoke");
    }

    private static String envValue(Manifests m, Map<String, Object> workload, Map<String, Object> e) {
        if (e.get("value") != null) {
            return e.get("value").toString();
        }
        Map<String, Object> from = map(e, "valueFrom");
        if (from.get("fieldRef") != null) {
            String field = str(from, "fieldRef", "fieldPath");
            return switch (field) {
                case "metadata.name" -> podName(workload);
                case "metadata.namespace" -> Chart.NAMESPACE;
                case "status.podIP", "status.hostIP" -> "127.0.0.1";
                case "spec.nodeName" -> ClusterStandIns.NODE_NAME;
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

    // --- the rewriting of paths, names and ports

    /** Each containerPort of every workload of the render to a free loopback port (one number, one port: Services name the same). */
    static Map<Integer, Integer> portsOf(Manifests m) {
        Map<Integer, Integer> ports = new LinkedHashMap<>();
        m.workloads().forEach(w -> Manifests.allContainers(w).forEach(c -> items(c, "ports")
                .forEach(p -> ports.computeIfAbsent((Integer) p.get("containerPort"), n -> io.javastor.testsupport.FreePorts.next()))));
        return ports;
    }

    /**
     * Mount paths to the temp dir (longest first, whole path segments only), ports to free ones, the namespace's Service
     * and pod names (NAME.NAMESPACE.svc[.cluster.local]) and 0.0.0.0 to loopback.
     */
    record Rewrite(Map<String, Path> mounts, Map<Integer, Integer> ports, Path volumesDir) {
        private static final Pattern SERVICE_NAME = Pattern.compile(
                "(?<![\\w.-])[a-z0-9]([a-z0-9.-]*[a-z0-9])?\\." + Pattern.quote(Chart.NAMESPACE) + "\\.svc(\\.cluster\\.local)?(?![\\w-])");

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
            out = SERVICE_NAME.matcher(out).replaceAll("127.0.0.1");
            return out.replace("0.0.0.0", "127.0.0.1");
        }

        int port(int containerPort) {
            return Objects.requireNonNull(ports.get(containerPort), "port " + containerPort + " is declared by no container of the chart");
        }

        Rewrite withMounts(Map<String, Path> other) {
            return new Rewrite(other, ports, volumesDir);
        }

        /** Where a mount path (or a file under it) is on this machine. */
        Path path(String inContainer) {
            return Path.of(apply(inContainer));
        }
    }

    // --- small helpers

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> items(Map<String, Object> c, String key) {
        Object v = c.get(key);
        return v == null ? List.of() : (List<Map<String, Object>>) v;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list0(Map<String, Object> c, String key) {
        Object v = c.get(key);
        return v == null ? List.of() : (List<Object>) v;
    }
}
