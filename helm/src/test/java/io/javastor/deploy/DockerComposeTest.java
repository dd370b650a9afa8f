package io.javastor.deploy;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.javastor.deploy.Manifests.at;
import static io.javastor.deploy.Manifests.map;
import static org.assertj.core.api.Assertions.assertThat;

/** docker-compose.yml: validated by the docker-compose client where installed, and read for the local cluster's settings. */
class DockerComposeTest {
    private static final Path COMPOSE = Chart.repoRoot().resolve("docker-compose.yml");

    record Result(int code, String output) {
    }

    @Test
    void composeClientAcceptsTheFile() throws Exception {
        Result r = config(COMPOSE);
        assertThat(r.code()).as(r.output()).isZero();
    }

    @Test
    void composeClientRejectsABrokenCopy(@TempDir Path tmp) throws Exception {
        String text = Files.readString(COMPOSE);
        // depends_on a service that does not exist.
        String broken = text.replace("      core-agent:\n        condition: service_started", "      core-agents:\n        condition: service_started");
        assertThat(broken).isNotEqualTo(text);
        Path copy = tmp.resolve("docker-compose.yml");
        Files.writeString(copy, broken);
        Result r = config(copy);
        assertThat(r.code()).isNotZero();
        assertThat(r.output()).contains("core-agents");
    }

    @Test
    @SuppressWarnings("unchecked")
    void servicesMatchTheLocalCluster() throws IOException {
        Map<String, Object> compose = Chart.parseOne(Files.readString(COMPOSE));
        Map<String, Object> services = map(compose, "services");
        assertThat(services).containsOnlyKeys("cluster-tls-init", "etcd", "postgres", "core-agent", "rest-auth-init", "rest-gateway",
                "csi-controller", "io-engine-1", "io-engine-2", "io-engine-3", "pool-init");
        // mTLS inside: the one-shot init makes the CA and the certificates with the product's own script; etcd serves
        // clients with mTLS only; the agent, the gateway and each node use their own certificate.
        assertThat((String) ((List<?>) map(services, "cluster-tls-init").get("entrypoint")).get(2))
                .contains("cluster-certs ca /tls", "etcd core-agent node-node-1 node-node-2 node-node-3",
                        "cluster-certs issue /tls rest-gateway DNS:rest-gateway IP:127.0.0.1");
        assertThat((List<String>) map(services, "etcd").get("command"))
                .contains("--listen-client-urls=https://0.0.0.0:2379", "--client-cert-auth", "--trusted-ca-file=/etc/javastor-tls/ca.crt");
        assertThat(map(map(services, "core-agent"), "environment")).containsEntry("JAVASTOR_CORE_ETCD_ENDPOINTS", "https://etcd:2379")
                .containsEntry("JAVASTOR_TLS_CERT_FILE", "/etc/javastor-tls/core-agent.crt");
        assertThat(map(map(services, "rest-gateway"), "environment")).containsEntry("JAVASTOR_TLS_CERT_FILE", "/etc/javastor-tls/rest-gateway.crt");
        // REST authentication is on: the gateway reads the key the one-shot init made, the CSI controller its token.
        assertThat(map(map(services, "rest-gateway"), "environment"))
                .containsEntry("JAVASTOR_GATEWAY_AUTH_JWT_SECRET_FILE", "/etc/javastor-auth/jwt.key");
        assertThat(at(services, "rest-gateway", "depends_on", "rest-auth-init", "condition")).isEqualTo("service_completed_successfully");
        assertThat(map(map(services, "csi-controller"), "environment"))
                .containsEntry("JAVASTOR_CSI_REST_TOKEN_FILE", "/etc/javastor-auth/csi-controller.token");
        assertThat((List<String>) map(services, "rest-gateway").get("volumes")).contains("rest-auth:/etc/javastor-auth:ro");
        assertThat((String) ((List<?>) map(services, "rest-auth-init").get("entrypoint")).get(2))
                .contains("umask 077", "TokenIssuer", "issue admin", "issue operator csi-controller", "chown -R 10001:10001");
        for (int n = 1; n <= 3; n++) {
            Map<String, Object> engine = map(services, "io-engine-" + n);
            Map<String, Object> env = map(engine, "environment");
            assertThat(env).containsEntry("NODE_NAME", "node-" + n)
                    .containsEntry("JAVASTOR_GRPC_PORT", String.valueOf(10123 + n))
                    .containsEntry("JAVASTOR_HTTP_PORT", String.valueOf(9501 + n))
                    .containsEntry("JAVASTOR_IO_ENGINE_NVMF_PORT", String.valueOf(8419 + n))
                    .containsEntry("JAVASTOR_IO_ENGINE_CORE_AGENT_ENDPOINT", "core-agent:50051")
                    .containsEntry("JAVASTOR_IO_ENGINE_DISK_POLICY_ALLOWED_PATHS", "/var/lib/javastor/**");
            // The disk is imported at start; its pool is made through the REST API (pool-init), as pools belong to the control plane.
            assertThat((String) env.get("JAVASTOR_IO_ENGINE_DISKS")).startsWith("uring:///var/lib/javastor/");
            assertThat(env).doesNotContainKey("JAVASTOR_IO_ENGINE_POOLS");
            // Volume targets name the address hosts outside use: the port published on the host's loopback.
            assertThat(env).containsEntry("JAVASTOR_IO_ENGINE_NVMF_FRONTEND_ADDRESS", "127.0.0.1");
            // io_uring: the default seccomp profile plus its three calls, and no added capabilities or privileges.
            assertThat((List<String>) engine.get("security_opt")).containsExactly("seccomp:docker/seccomp-io-engine.json");
            assertThat(engine).doesNotContainKeys("cap_add", "privileged");
            assertThat(env).containsEntry("JAVASTOR_TLS_CERT_FILE", "/etc/javastor-tls/node-node-" + n + ".crt")
                    .containsEntry("JAVASTOR_TLS_KEY_FILE", "/etc/javastor-tls/node-node-" + n + ".key");
            assertThat((List<String>) engine.get("volumes")).containsExactly("node-" + n + "-data:/var/lib/javastor",
                    "cluster-tls:/etc/javastor-tls:ro");
            assertThat((List<String>) engine.get("ports")).contains("127.0.0.1:" + (8419 + n) + ":" + (8419 + n));
            assertThat(map(compose, "volumes")).containsKey("node-" + n + "-data");
        }
        assertThat((List<String>) map(services, "rest-gateway").get("ports")).containsExactly("127.0.0.1:8081:8081");
        assertThat((List<String>) map(services, "core-agent").get("ports")).contains("127.0.0.1:50051:50051");
        // Stores are built here from Debian's packages (no registry needed), like the services.
        assertThat(at(services, "etcd", "build", "dockerfile")).isEqualTo("docker/etcd.Dockerfile");
        assertThat(at(services, "postgres", "build", "dockerfile")).isEqualTo("docker/postgres.Dockerfile");
        // The CSI plugin serves no HTTP: its health check is a CSI Probe over its socket.
        assertThat((List<String>) at(services, "csi-controller", "healthcheck", "test")).containsExactly("CMD", "csi-probe",
                "unix:///run/javastor/csi-controller.sock");
        assertThat((String) ((List<?>) map(services, "pool-init").get("entrypoint")).get(2)).contains("/v0/nodes/node-$$n/pools/pool-$$n", "admin.token");
        // Every service has its own fixed address (podman's allocator would hand an io-engine's to another service).
        java.util.Set<String> addresses = new java.util.HashSet<>();
        services.forEach((name, s) -> assertThat(addresses.add((String) at((Map<String, Object>) s, "networks", "javastor", "ipv4_address")))
                .as(name + " has a fixed address of its own").isTrue());
        assertThat(addresses).doesNotContainNull();
        for (int n = 1; n <= 3; n++) {
            assertThat((String) at(services, "io-engine-" + n, "networks", "javastor", "ipv4_address")).isEqualTo("${JAVASTOR_NET_PREFIX:-172.28.0}.1" + n);
        }
        // Only loopback is published.
        services.values().forEach(s -> ((List<String>) ((Map<String, Object>) s).getOrDefault("ports", List.of()))
                .forEach(p -> assertThat(p).startsWith("127.0.0.1:")));
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyServiceHasAHealthCheckARestartPolicyAndThePrivateNetwork() throws IOException {
        Map<String, Object> compose = Chart.parseOne(Files.readString(COMPOSE));
        // The x-javastor / x-io-engine anchors are merged into each service by the YAML parser (<<: keys).
        Map<String, Object> services = map(compose, "services");
        services.forEach((name, s) -> {
            Map<String, Object> svc = (Map<String, Object>) s;
            if (name.endsWith("-init")) {
                // A one-shot step others wait for (service_completed_successfully): it runs once, never restarts.
                assertThat(svc.get("restart")).as(name + " restart").isEqualTo("no");
            } else {
                assertThat(at(svc, "healthcheck", "test")).as(name + " healthcheck").isNotNull();
                assertThat(svc.get("restart")).as(name + " restart").isEqualTo("unless-stopped");
            }
            Object networks = svc.get("networks");
            assertThat(networks instanceof Map ? ((Map<String, Object>) networks).keySet() : networks).as(name + " networks")
                    .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.ITERABLE).containsExactly("javastor");
            Object build = svc.get("build");
            if (build != null) {
                Path dockerfile = Chart.repoRoot().resolve((String) ((Map<String, Object>) build).get("dockerfile"));
                assertThat(dockerfile).as(name + " Dockerfile").isRegularFile();
                assertThat((String) svc.get("image")).startsWith("javastor/");
            }
        });
        // Start order: stores healthy before the agent, the agent healthy before the io-engines (which register with it
        // as they start); the gateway and the CSI controller ask it per request, so they start beside it, not after it.
        assertThat(at(services, "core-agent", "depends_on", "etcd", "condition")).isEqualTo("service_healthy");
        assertThat(at(services, "core-agent", "depends_on", "postgres", "condition")).isEqualTo("service_healthy");
        assertThat(at(services, "io-engine-1", "depends_on", "core-agent", "condition")).isEqualTo("service_healthy");
        assertThat(at(services, "rest-gateway", "depends_on", "core-agent", "condition")).isEqualTo("service_started");
        assertThat(map(map(services, "csi-controller"), "depends_on")).containsOnlyKeys("cluster-tls-init", "rest-auth-init");
        assertThat(map(services, "rest-auth-init")).doesNotContainKey("depends_on");
        assertThat(at(services, "pool-init", "depends_on", "rest-gateway", "condition")).isEqualTo("service_healthy");
    }

    /** docker-compose config -q on a file; skipped (with the reason printed) where the client is not installed. */
    static Result config(Path file) throws Exception {
        String exe = findOnPath("docker-compose");
        if (exe == null) {
            String reason = "docker-compose is not installed (apt-get install -y --no-install-recommends docker-compose); compose validation skipped";
            System.out.println("SKIPPED: " + reason);
            Assumptions.abort(reason);
        }
        Process p = new ProcessBuilder(exe, "-f", file.toString(), "config", "-q")
                .directory(file.getParent().toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("docker-compose finished").isTrue();
        return new Result(p.exitValue(), out);
    }

    static String findOnPath(String exe) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, exe);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return null;
    }
}
