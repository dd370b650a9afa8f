package io.javastor.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Testcontainers with no Docker engine: against podman's Docker-compatible API socket ({@code ./javastor compose
 * socket} starts {@code podman system service} with this machine's settings, tools/compose.sh) and the images built
 * here from Debian's packages ({@code ./javastor compose images}): a PostgreSQL container through Testcontainers' own
 * {@code PostgreSQLContainer} (javastor/postgres takes the official image's variables and arguments) and an etcd
 * container. Tests that want a PostgreSQL or etcd server keep their plain-process path (core-agent's PostgresExtension
 * and EtcdExtension) for machines with neither engine; this shows the container path works here too.
 *
 * <p>Runs with {@code -Djavastor.compose=true} ({@code ./javastor test} sets it); skips, printing why, when no engine
 * can be had. Ryuk is off (TESTCONTAINERS_RYUK_DISABLED in e2e/pom.xml): its image is not to be had without a registry.
 */
@EnabledIfSystemProperty(named = "javastor.compose", matches = "true",
        disabledReason = "Testcontainers on podman: run with -Djavastor.compose=true (./javastor test does)")
class TestcontainersOnPodmanTest {
    private static final String PROJECT = "testcontainers";
    private static Path root;

    @BeforeAll
    static void engine() throws Exception {
        root = Path.of(System.getProperty("javastor.root", "..")).toAbsolutePath().normalize();
        if (!Files.isExecutable(Path.of("/usr/bin/podman")) && !Files.isExecutable(Path.of("/usr/bin/docker"))
                && !"root".equals(System.getProperty("user.name"))) {
            skip("no podman or docker, and not root to install podman");
        }
        String socket = javastor(Duration.ofMinutes(3), "compose", "socket").strip();
        String last = socket.lines().reduce((a, b) -> b).orElse("");
        if (!last.startsWith("unix://")) {
            skip("no Docker API socket (./javastor compose socket said: " + socket + ")");
        }
        // Testcontainers takes its engine from DOCKER_HOST, which e2e's surefire sets to that socket's place.
        if (!last.equals(System.getenv("DOCKER_HOST"))) {
            skip("the engine's socket " + last + " is not DOCKER_HOST (" + System.getenv("DOCKER_HOST") + ", e2e/pom.xml)");
        }
        String images = javastor(Duration.ofMinutes(15), "compose", "images");
        System.out.println("---- ./javastor compose images ----\n" + images);
        assertThat(DockerClientFactory.instance().isDockerAvailable()).as("Testcontainers reaches " + last).isTrue();
    }

    @AfterAll
    static void stopTheApiService() throws Exception {
        if (root != null) {
            javastor(Duration.ofMinutes(2), "compose", "down");
        }
    }

    @Test
    void postgreSqlContainerFromTheLocalImage() throws Exception {
        DockerImageName image = DockerImageName.parse("javastor/postgres:0.1.0").asCompatibleSubstituteFor("postgres");
        try (PostgreSQLContainer pg = new PostgreSQLContainer(image).withStartupTimeout(Duration.ofMinutes(2))) {
            pg.start();
            try (Connection c = DriverManager.getConnection(pg.getJdbcUrl(), pg.getUsername(), pg.getPassword());
                 ResultSet r = c.createStatement().executeQuery("select current_user, current_database(), version()")) {
                assertThat(r.next()).isTrue();
                assertThat(r.getString(1)).isEqualTo(pg.getUsername());
                assertThat(r.getString(2)).isEqualTo(pg.getDatabaseName());
                assertThat(r.getString(3)).startsWith("PostgreSQL 15");
                System.out.println("Testcontainers PostgreSQL on " + pg.getJdbcUrl() + ": " + r.getString(3));
            }
            // A wrong password is refused (scram for network clients, as in the official image).
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> DriverManager.getConnection(pg.getJdbcUrl(), pg.getUsername(), "wrong"))
                    .hasMessageContaining("password authentication failed");
        }
    }

    @Test
    void etcdContainerFromTheLocalImage() throws Exception {
        try (GenericContainer<?> etcd = new GenericContainer<>(DockerImageName.parse("javastor/etcd:0.1.0"))
                .withCommand("etcd", "--name=tc", "--data-dir=/var/lib/etcd/data", "--listen-client-urls=http://0.0.0.0:2379",
                        "--advertise-client-urls=http://127.0.0.1:2379")
                .withExposedPorts(2379)
                .waitingFor(Wait.forHttp("/health").forPort(2379).forStatusCode(200))
                .withStartupTimeout(Duration.ofMinutes(2))) {
            etcd.start();
            String base = "http://" + etcd.getHost() + ":" + etcd.getMappedPort(2379);
            HttpClient http = HttpClient.newHttpClient();
            // etcd's v3 JSON gateway: put then range one key (keys and values base64).
            String put = http.send(HttpRequest.newBuilder(URI.create(base + "/v3/kv/put"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"key\":\"amF2YXN0b3I=\",\"value\":\"cG9kbWFu\"}")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(put).contains("\"revision\"");
            String got = http.send(HttpRequest.newBuilder(URI.create(base + "/v3/kv/range"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"key\":\"amF2YXN0b3I=\"}")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertThat(got).contains("\"value\":\"cG9kbWFu\"");
            System.out.println("Testcontainers etcd on " + base + ": " + got);
        }
    }

    private static void skip(String reason) {
        System.out.println("SKIPPED: " + reason);
        Assumptions.abort(reason);
    }

    private static String javastor(Duration limit, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", root.resolve("javastor").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile()).redirectErrorStream(true);
        pb.environment().put("JAVASTOR_COMPOSE_PROJECT", PROJECT);
        // e2e's surefire sets DOCKER_HOST to podman's socket for Testcontainers; ./javastor picks its engine itself.
        pb.environment().remove("DOCKER_HOST");
        pb.environment().put("JAVASTOR_SKIP_BUILD", "1");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        assertThat(p.exitValue()).as("./javastor " + String.join(" ", args) + ":\n" + out).isZero();
        return out;
    }
}
