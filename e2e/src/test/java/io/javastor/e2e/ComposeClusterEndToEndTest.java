package io.javastor.e2e;

import static io.javastor.e2e.VolumeJson.healthyReplicaNodes;
import static io.javastor.e2e.VolumeJson.replicaNodes;
import static io.javastor.e2e.VolumeJson.statusById;
import static io.javastor.e2e.VolumeJson.whole;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.javastor.api.tls.ClusterTls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import tools.jackson.databind.JsonNode;

/**
 * The docker-compose.yml dev cluster, for real, on podman (this machine has no Docker engine): {@code ./javastor compose
 * up} builds every image that is missing or stale (Debian base, JRE, etcd, PostgreSQL and the Java services, from the
 * reactor's jars) and starts the compose file with docker-compose against podman's API socket, waiting for every
 * health check; pools (made by the pool-init one-shot, PUT again here: idempotent) and a 3-replica volume through the
 * REST API (HTTPS from the cluster CA, an admin token); the volume published to the VM guest, which gets its
 * DH-HMAC-CHAP secrets the way a CSI node plugin does ({@code ./javastor compose host-secrets}: a csi-node certificate
 * from the compose CA) and connects the Linux kernel's NVMe/TCP initiator to the host-published port, writing with
 * {@code fio --verify}; under that I/O one io-engine container holding a replica is killed ({@code podman kill}): the
 * nexus goes Degraded with that child Faulted, the container comes back (restart policy, or started again), the
 * volume heals (three Online children, REST Online) and fio reads everything back. Then {@code ./javastor compose down
 * -v} and nothing of the project is left (containers, volumes, network, API service, health ticker).
 *
 * <p>io_uring inside the io-engine containers is what the pools run on ({@code uring://} disks): the seccomp profile
 * docker/seccomp-io-engine.json is what lets it through.
 *
 * <p>Gated like the other VM tests ({@code -Djavastor.vm=true}, which {@code ./javastor test} sets); {@code
 * -Djavastor.compose=false} skips it alone. Skips, printing why, when podman is missing and cannot be installed.
 */
@Tag("vm")
@EnabledIfSystemProperty(named = "javastor.vm", matches = "true",
        disabledReason = "compose end-to-end test (podman + kernel initiator VM): run with -Djavastor.vm=true (./javastor test does)")
class ComposeClusterEndToEndTest {
    private static final String PROJECT = "javastor-e2e";
    private static final String NEXUS_NODE = "node-1";
    private static final String GUEST_NODE = "compose-guest";
    private static final long VOLUME_BYTES = 256L << 20;
    // fio's write phase: 96 MiB at most 2 MiB/s, so at least 48 s of writes to kill an engine under.
    private static final int WRITE_MB = 96;
    private static final int RATE_KB = 2048;
    private static final List<String> SERVICES = List.of("etcd", "postgres", "core-agent", "rest-gateway", "csi-controller",
            "io-engine-1", "io-engine-2", "io-engine-3");
    private static final List<String> ONE_SHOTS = List.of("cluster-tls-init", "rest-auth-init", "pool-init");
    private static final List<String> JAVA_SERVICES = List.of("core-agent", "rest-gateway", "csi-controller", "io-engine-1");

    private final List<String> timeline = new ArrayList<>();
    private final Instant t0 = Instant.now();

    record Run(int exitCode, String output, Duration took) {
    }

    private void mark(String what) {
        String line = String.format("+%4d s  %s", Duration.between(t0, Instant.now()).toSeconds(), what);
        timeline.add(line);
        System.out.println("COMPOSE-E2E " + line);
    }

    @Test
    void theComposeClusterRunsOnPodmanServesTheKernelInitiatorAndHealsAKilledIoEngine(@TempDir Path tmp) throws Exception {
        Assumptions.assumeTrue(!"false".equals(System.getProperty("javastor.compose")), "skipped: -Djavastor.compose=false");
        Path root = Path.of(System.getProperty("javastor.root", "..")).toAbsolutePath().normalize();
        requirePodman();
        GuestVm.tools(); // skips, saying why, without the VM harness
        GuestVm vm = null;
        boolean passed = false;
        try {
            // A clean start: a project of this name left by an earlier run goes first.
            javastor(root, Duration.ofMinutes(3), true, "compose", "down", "-v");

            // 1. The README's command: images built when missing, cluster started, every health check passing.
            Run up = javastor(root, Duration.ofMinutes(15), true, "compose", "up");
            assertThat(up.exitCode()).as("./javastor compose up exit code").isZero();
            mark("./javastor compose up (" + up.took().toSeconds() + " s): " + LocalCluster.firstMatch(up.output(), "images ready \\d+ s, services healthy \\d+ s later"));
            Map<String, String> status = serviceStatus(root);
            for (String s : SERVICES) {
                assertThat(status.get(s)).as(s + " status").contains("(healthy)");
            }
            for (String s : ONE_SHOTS) {
                assertThat(status.get(s)).as(s + " status").startsWith("Exited (0)");
            }
            mark("every service healthy by its health check " + SERVICES + ", one-shots done " + ONE_SHOTS);
            // Each Java service started from its image's class archive (trained at build time; the JVM would start
            // without it, silently, were it stale): the entry point's JVM (PID 1) has app.jsa mapped.
            for (String s : JAVA_SERVICES) {
                Run maps = exec(Duration.ofMinutes(1), "podman", "exec", containerOf(s), "grep", "-c", "/opt/javastor/app.jsa", "/proc/1/maps");
                assertThat(maps.exitCode()).as(s + ": its JVM maps /opt/javastor/app.jsa (" + maps.output().strip() + ")").isZero();
            }
            mark("every Java service maps its image's class archive " + JAVA_SERVICES);

            // 2. The REST API over HTTPS from the compose CA, with the admin token the rest-auth-init one-shot made.
            Path home = Files.createDirectories(tmp.resolve("client"));
            Files.createDirectories(home.resolve("auth"));
            Files.createDirectories(home.resolve("tls"));
            Files.writeString(home.resolve("auth/admin.token"), checked(root, "compose", "token").strip());
            Files.writeString(home.resolve("tls/ca.crt"), checked(root, "compose", "ca"));
            LocalCluster rest = new LocalCluster(root, home);
            assertThat(rest.sendAs(java.net.http.HttpRequest.newBuilder(java.net.URI.create(LocalCluster.REST + "/v0/nodes")).build()).status())
                    .as("GET /v0/nodes without a token").isEqualTo(401);
            await("three nodes Online").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> statusById(rest.ok(rest.get("/v0/nodes"), "list nodes")).values().stream().filter("Online"::equals).count() == 3);
            for (int n = 1; n <= 3; n++) {
                JsonNode pool = rest.ok(rest.put("/v0/nodes/node-" + n + "/pools/pool-" + n,
                        "{\"disks\":[\"uring:///var/lib/javastor/disk.img?size_mb=1024\"]}"), "create pool-" + n);
                assertThat(pool.path("state").path("status").asString()).as("pool-" + n).isEqualTo("Online");
            }
            assertThat(statusById(rest.ok(rest.get("/v0/pools"), "list pools"))).containsEntry("pool-1", "Online")
                    .containsEntry("pool-2", "Online").containsEntry("pool-3", "Online");
            mark("REST: 401 without a token; nodes Online; pool-1..3 on uring:// disks (io_uring in the containers) Online");

            String uuid = UUID.randomUUID().toString();
            JsonNode created = rest.ok(rest.put("/v0/volumes/" + uuid,
                    "{\"size\":" + VOLUME_BYTES + ",\"replicas\":3,\"thin\":true,\"policy\":{\"self_heal\":true}}"), "create volume");
            assertThat(created.path("state").path("status").asString()).isEqualTo("Online");
            assertThat(replicaNodes(created)).containsExactlyInAnyOrder("node-1", "node-2", "node-3");
            JsonNode published = rest.ok(rest.put("/v0/volumes/" + uuid + "/target",
                    "{\"protocol\":\"nvmf\",\"publish_context\":{},\"node\":\"" + NEXUS_NODE + "\",\"frontend_node\":\"" + GUEST_NODE + "\"}"),
                    "publish volume");
            String deviceUri = published.path("state").path("target").path("deviceUri").asString();
            Matcher m = Pattern.compile("nvmf://127\\.0\\.0\\.1:(\\d+)/(nqn\\.[^/]+)").matcher(deviceUri);
            assertThat(m.matches()).as("deviceUri names the host-published address: " + deviceUri).isTrue();
            int port = Integer.parseInt(m.group(1));
            String nqn = m.group(2);
            mark("volume " + uuid + " created (3 replicas) and published at " + deviceUri);

            // 3. The kernel initiator, as the host the volume is published to, with the secrets a CSI node plugin gets.
            Run secrets = javastor(root, Duration.ofMinutes(3), false, "compose", "host-secrets", uuid, GUEST_NODE);
            String options = secrets.output().strip().lines().filter(l -> l.startsWith("--hostnqn=")).reduce((a, b) -> b).orElse("");
            assertThat(secrets.exitCode()).as("./javastor compose host-secrets exit code").isZero();
            assertThat(options).as("host-secrets printed a host NQN and a DH-HMAC-CHAP pair")
                    .contains("--hostnqn=").contains("--dhchap-secret=DHHC-1:").contains("--dhchap-ctrl-secret=DHHC-1:");
            GuestVm.connectOptions(tmp, nqn, options);
            vm = GuestVm.start(tmp, "guest-fio-verify.sh", 1500, GuestVm.HOST_FROM_GUEST, Integer.toString(port), nqn,
                    Integer.toString(WRITE_MB), Integer.toString(RATE_KB), "600");
            GuestVm guest = vm;
            await("the guest connects and starts writing").atMost(Duration.ofMinutes(6)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> {
                        if (!guest.alive() || guest.marker("failed")) {
                            throw new AssertionError("the VM stopped before writing:\n" + guest.output());
                        }
                        return guest.marker("writing");
                    });
            mark("guest connected to " + GuestVm.HOST_FROM_GUEST + ":" + port + " (host 127.0.0.1:" + port + ", published), fio writing");

            // 4. Kill an io-engine container holding a replica (not the nexus's) once it has taken writes.
            String victim = "node-2";
            String victimReplica = replicaOn(created, victim);
            await(victim + " has taken 8 MiB of the guest's writes").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> {
                        if (!guest.alive() || guest.marker("failed") || guest.marker("written")) {
                            throw new AssertionError("fio's write phase ended before the kill:\n" + guest.output());
                        }
                        return poolWriteBytes(9503, "pool-2") >= 8L << 20;
                    });
            String container = containerOf("io-engine-2");
            Run kill = exec(Duration.ofMinutes(1), "podman", "kill", container);
            assertThat(kill.exitCode()).as("podman kill " + container + ": " + kill.output()).isZero();
            mark("podman kill io-engine-2 (" + container + ") while fio writes");

            Path tls = volumePath(PROJECT + "_cluster-tls");
            ClusterTls agentTls = new ClusterTls(true, tls.resolve("ca.crt"), tls.resolve("core-agent.crt"), tls.resolve("core-agent.key"));
            try (NexusProbe nexus = new NexusProbe(agentTls, NEXUS_NODE, 10124, uuid)) {
                await("nexus Degraded, " + victim + "'s child Faulted").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
                        .until(() -> nexus.degradedWithFaulted(victimReplica));
                mark("nexus on " + NEXUS_NODE + " Degraded: " + nexus.describe() + "; REST volume " + rest.volumeStatus(uuid));

                // The container comes back: its restart policy, or (an engine that does not apply it to a kill) a start.
                await("io-engine-2 running again").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2)).until(() -> {
                    if (!running(container)) {
                        exec(Duration.ofMinutes(1), "podman", "start", container);
                    }
                    return running(container);
                });
                mark("io-engine-2 running again");
                await("volume healed: nexus Online with 3 Online children, REST Online with 3 healthy replicas").atMost(Duration.ofMinutes(8))
                        .pollInterval(Duration.ofSeconds(2))
                        .until(() -> nexusWhole(nexus) && whole(rest.volume(uuid)));
                mark("healed: nexus " + nexus.describe() + "; REST volume Online, healthy replicas on " + healthyReplicaNodes(rest.volume(uuid))
                        + (guest.marker("written") ? " (fio's write phase had ended)" : " (fio still writing)"));
            }

            // 5. fio: its write phase verified, then everything read back through the healed set.
            vm.signal("recovered");
            int exit = vm.await(900);
            String out = vm.output();
            System.out.println("---- VM output ----\n" + out + "\n---- console tail ----\n" + vm.consoleTail());
            mark("guest finished, exit " + exit);
            assertThat(exit).as("guest exit code (-1: did not finish in 900 s)").isZero();
            assertThat(out.lines()).as("guest output").contains("PASS");
            assertThat(out).doesNotContainIgnoringCase("verify failed").doesNotContainIgnoringCase("bad magic");
            passed = true;
        } finally {
            if (vm != null) {
                vm.close();
            }
            if (!passed) {
                System.out.println("==== compose e2e FAILED; timeline ====\n" + String.join("\n", timeline));
                if (vm != null) {
                    System.out.println("---- VM output ----\n" + vm.output() + "\n---- console tail ----\n" + vm.consoleTail());
                }
                System.out.println(diagnostics(root));
            }
            // 6. Down, volumes deleted, and nothing of the project left running.
            Run down = javastor(root, Duration.ofMinutes(3), true, "compose", "down", "-v");
            mark("./javastor compose down -v (" + down.took().toSeconds() + " s, exit " + down.exitCode() + ")");
            String left = exec(Duration.ofMinutes(1), "podman", "ps", "-a", "--filter", "label=com.docker.compose.project=" + PROJECT,
                    "--format", "{{.Names}}").output().strip()
                    + exec(Duration.ofMinutes(1), "podman", "volume", "ls", "-q", "--filter", "label=com.docker.compose.project=" + PROJECT).output().strip();
            System.out.println("==== compose e2e timeline ====\n" + String.join("\n", timeline));
            if (passed) {
                assertThat(down.exitCode()).as("./javastor compose down -v").isZero();
                assertThat(left).as("containers and volumes of " + PROJECT + " left after down").isEmpty();
                assertThat(pgrep("podman system service .*" + Pattern.quote(PROJECT))).as("podman API service left running").isEmpty();
                assertThat(pgrep("javastor-health-ticker " + PROJECT)).as("health ticker left running").isEmpty();
            }
        }
    }

    /** Skips, printing why, when podman is not installed and cannot be (apt-get needs root). */
    private static void requirePodman() {
        boolean installed = Files.isExecutable(Path.of("/usr/bin/podman"));
        boolean root = "root".equals(System.getProperty("user.name"));
        if (!installed && !root) {
            String reason = "skipped: podman is not installed and we are not root to install it (apt-get install podman runc mmdebstrap docker-compose)";
            System.out.println("SKIPPED: " + reason);
            Assumptions.abort(reason);
        }
    }

    private static Map<String, String> env() {
        return Map.of("JAVASTOR_COMPOSE_PROJECT", PROJECT, "JAVASTOR_SKIP_BUILD", "1", "JAVASTOR_POOL_MB", "1024");
    }

    /** {@code ./javastor ARGS...} with this test's project; output on the console (unless it holds secrets) and returned. */
    private static Run javastor(Path root, Duration limit, boolean show, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", root.resolve("javastor").toString()));
        cmd.addAll(List.of(args));
        Run r = run(new ProcessBuilder(cmd).directory(root.toFile()), limit);
        System.out.printf("---- ./javastor %s (%d s, exit %d) ----%n%s%n", String.join(" ", args), r.took().toSeconds(), r.exitCode(),
                show ? r.output() : "(output not shown: secrets)");
        return r;
    }

    private static String checked(Path root, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", root.resolve("javastor").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().putAll(env());
        // e2e's surefire sets DOCKER_HOST to podman's socket for Testcontainers; ./javastor picks its engine itself.
        pb.environment().remove("DOCKER_HOST");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0).as("./javastor " + String.join(" ", args)).isTrue();
        return out;
    }

    private static Run exec(Duration limit, String... cmd) throws IOException, InterruptedException {
        return run(new ProcessBuilder(cmd), limit);
    }

    private static Run run(ProcessBuilder pb, Duration limit) throws IOException, InterruptedException {
        pb.environment().putAll(env());
        pb.environment().remove("DOCKER_HOST"); // (see checked)
        Path out = Files.createTempFile("compose-e2e-", ".out");
        pb.redirectErrorStream(true).redirectOutput(out.toFile());
        long start = System.nanoTime();
        Process p = pb.start();
        boolean done = p.waitFor(limit.toSeconds(), TimeUnit.SECONDS);
        if (!done) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
        }
        String text = Files.readString(out, StandardCharsets.UTF_8);
        Files.delete(out);
        return new Run(done ? p.exitValue() : -1, text + (done ? "" : "\n(killed after " + limit.toSeconds() + " s)"),
                Duration.ofNanos(System.nanoTime() - start));
    }

    /** service -> podman's status ("Up 2 minutes (healthy)", "Exited (0) ..."), by the compose labels of this project. */
    private static Map<String, String> serviceStatus(Path root) throws IOException, InterruptedException {
        Run ps = exec(Duration.ofMinutes(1), "podman", "ps", "-a", "--filter", "label=com.docker.compose.project=" + PROJECT,
                "--format", "{{ index .Labels \"com.docker.compose.service\" }}|{{.Status}}");
        Map<String, String> out = new java.util.TreeMap<>();
        ps.output().lines().filter(l -> l.contains("|")).forEach(l -> out.put(l.substring(0, l.indexOf('|')), l.substring(l.indexOf('|') + 1)));
        return out;
    }

    private static String containerOf(String service) throws IOException, InterruptedException {
        String id = exec(Duration.ofMinutes(1), "podman", "ps", "-q", "--filter", "label=com.docker.compose.project=" + PROJECT,
                "--filter", "label=com.docker.compose.service=" + service).output().strip();
        assertThat(id).as(service + " container").isNotEmpty();
        return id.lines().findFirst().orElseThrow();
    }

    private static boolean running(String container) throws IOException, InterruptedException {
        return "true".equals(exec(Duration.ofMinutes(1), "podman", "inspect", "--format", "{{.State.Running}}", container).output().strip());
    }

    /** Where a named volume's files are on this host (rootful podman). */
    private static Path volumePath(String volume) throws IOException, InterruptedException {
        Run r = exec(Duration.ofMinutes(1), "podman", "volume", "inspect", "--format", "{{.Mountpoint}}", volume);
        assertThat(r.exitCode()).as("podman volume inspect " + volume + ": " + r.output()).isZero();
        return Path.of(r.output().strip());
    }

    private static String pgrep(String pattern) throws IOException, InterruptedException {
        return exec(Duration.ofSeconds(30), "pgrep", "-af", pattern).output().strip();
    }

    private static String diagnostics(Path root) {
        StringBuilder sb = new StringBuilder();
        try {
            sb.append("---- ./javastor compose status ----\n").append(javastorQuiet(root, "compose", "status"));
            for (String s : List.of("etcd", "core-agent", "rest-gateway", "csi-controller", "io-engine-1", "io-engine-2", "io-engine-3", "pool-init")) {
                String log = javastorQuiet(root, "compose", "logs", s);
                List<String> lines = log.lines().toList();
                sb.append("---- tail of ").append(s).append(" ----\n");
                lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(l -> sb.append("  ").append(l).append('\n'));
            }
        } catch (Exception e) {
            sb.append("(diagnostics incomplete: ").append(e).append(")\n");
        }
        return sb.toString();
    }

    private static String javastorQuiet(Path root, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", root.resolve("javastor").toString()));
        cmd.addAll(List.of(args));
        return run(new ProcessBuilder(cmd).directory(root.toFile()), Duration.ofMinutes(1)).output();
    }

    /** The nexus's own view: Online, three children, all Online (the returning replica or its replacement rebuilt). */
    private static boolean nexusWhole(NexusProbe nexus) {
        var n = nexus.nexus();
        return n.getState() == io.javastor.api.ioengine.v1.NexusState.NEXUS_STATE_ONLINE && n.getChildrenCount() == 3
                && n.getChildrenList().stream().allMatch(c -> c.getState() == io.javastor.api.ioengine.v1.ChildState.CHILD_STATE_ONLINE);
    }

    private static String replicaOn(JsonNode volume, String node) {
        for (var e : volume.path("state").path("replica_topology").properties()) {
            if (node.equals(e.getValue().path("node").asString())) {
                return e.getKey();
            }
        }
        throw new AssertionError("no replica on " + node + " in " + volume);
    }

    private static long poolWriteBytes(int httpPort, String pool) throws Exception {
        var r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + httpPort + "/actuator/prometheus")).timeout(Duration.ofSeconds(10)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("javastor_pool_io_bytes_total\\{op=\"write\",pool=\"" + Pattern.quote(pool) + "\"} (\\S+)").matcher(r.body());
        return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    }
}
