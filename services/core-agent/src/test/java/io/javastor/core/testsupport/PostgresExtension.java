package io.javastor.core.testsupport;

import io.javastor.testsupport.FreePorts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real, throw-away PostgreSQL for a test class: Debian's server binaries
 * ({@code /usr/lib/postgresql/<newest>/bin}, package postgresql), initdb in a temp dir, started
 * on a free loopback port with trust auth, stopped and deleted after. initdb refuses root, so as
 * root it runs through {@code runuser -u postgres}. Missing binaries skip the tests with a message.
 * JDBC URL: {@link #jdbcUrl()}, user {@code postgres}, no password.
 */
public final class PostgresExtension implements BeforeAllCallback, AfterAllCallback {

    private Path dir;
    private Path bin;
    private int port;
    private boolean asRoot;

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    public String username() {
        return "postgres";
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        bin = findBin();
        Assumptions.assumeTrue(bin != null, "SKIPPED: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install -y postgresql)");
        asRoot = "root".equals(System.getProperty("user.name"));
        if (asRoot) {
            Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/runuser")) || Files.isExecutable(Path.of("/sbin/runuser")),
                    "SKIPPED: running as root but runuser is missing (initdb refuses root)");
        }
        dir = Files.createTempDirectory("javastor-pg-");
        if (asRoot) {
            run(List.of("chown", "postgres", dir.toString()));
        }
        port = FreePorts.next();
        run(asUser(List.of(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", "postgres",
                "-A", "trust", "-E", "UTF8")));
        run(asUser(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(),
                "-o", "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1", "-l", dir.resolve("log").toString(),
                "-w", "-t", "60", "start")));
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (dir == null) {
            return;
        }
        if (Files.exists(dir.resolve("data/postmaster.pid"))) {
            run(asUser(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "immediate", "-w", "stop")));
        }
        try (var paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private List<String> asUser(List<String> command) {
        if (!asRoot) {
            return command;
        }
        List<String> out = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        out.addAll(command);
        return out;
    }

    private void run(List<String> command) throws IOException, InterruptedException {
        Path log = Files.createTempFile("javastor-pg-cmd-", ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(Duration.ofSeconds(90).toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + command);
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("failed (" + p.exitValue() + "): " + command + "\n" + Files.readString(log));
            }
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static Path findBin() throws IOException {
        Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            return null;
        }
        try (var versions = Files.list(root)) {
            return versions.filter(v -> Files.isExecutable(v.resolve("bin/initdb")))
                    .max(Comparator.comparingInt(v -> parseVersion(v.getFileName().toString())))
                    .map(v -> v.resolve("bin")).orElse(null);
        }
    }

    private static int parseVersion(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
