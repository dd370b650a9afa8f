package io.javastor.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.javastor.api.tls.ClusterPeer;

/**
 * The real REST gateway (its exec jar, {@link JavaProcess#GATEWAY_JAR}) in its own JVM on a free loopback port,
 * with authentication on as in production: its own random signing key (mode 0600 beside its log) and tokens
 * issued by the gateway jar's own issuer, the one {@code ./javastor token} runs.
 */
public final class RestGatewayProcess implements AutoCloseable {
    private final int port = FreePorts.next();
    private final Path dir;
    private final Path keyFile;
    private final JavaProcess process;

    public RestGatewayProcess(String coreAgentAddress, Path logDir) {
        this.dir = logDir;
        this.keyFile = logDir.resolve("rest-gateway-jwt.key");
        List<String> args = new ArrayList<>(List.of("--server.address=127.0.0.1", "--server.port=" + port,
                "--javastor.gateway.core-agent.addresses=" + coreAgentAddress,
                "--javastor.gateway.core-agent.call-timeout=20s",
                "--javastor.gateway.auth.jwt-secret-file=" + keyFile));
        // mTLS to the core agent, as in production
        ClusterCertificates.shared().springProperties(ClusterPeer.REST_GATEWAY).forEach((k, v) -> args.add("--" + k + "=" + v));
        this.process = new JavaProcess("rest-gateway", JavaProcess.Program.jar(JavaProcess.GATEWAY_JAR), List.of("-Xmx256m"),
                args, logDir.resolve("rest-gateway.log"), () -> JavaProcess.httpOk(url() + "/actuator/health/readiness"), Duration.ofSeconds(180));
    }

    /** https: the gateway serves TLS with its certificate from the tests' cluster CA (ClusterCertificates). */
    public String url() {
        return "https://127.0.0.1:" + port;
    }

    public RestGatewayProcess start() throws IOException {
        if (!Files.exists(keyFile)) {
            byte[] key = new byte[48];
            new SecureRandom().nextBytes(key);
            Files.createFile(keyFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(keyFile, Base64.getEncoder().encodeToString(key), StandardCharsets.US_ASCII);
        }
        process.start();
        return this;
    }

    /** A new token with this role ("viewer", "operator", "admin"), issued by {@code javastor-token} from the gateway's jar. */
    public String token(String role) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "token-", ".out");
        Process p = new ProcessBuilder(JavaProcess.java(), "-cp", JavaProcess.execJar(JavaProcess.GATEWAY_JAR).toString(),
                "-Dloader.main=io.javastor.gateway.security.TokenIssuer", "org.springframework.boot.loader.launch.PropertiesLauncher",
                "--key-file", keyFile.toString(), "--role", role, "--subject", "test-" + role)
                .redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("javastor-token --role " + role + " failed (exit " + (p.isAlive() ? "none" : p.exitValue()) + ")");
        }
        String token = Files.readString(out).strip();
        Files.delete(out);
        return token;
    }

    /** A file (mode 0600) holding a new token with this role, for a client configured with a token file. */
    public Path tokenFile(String role) throws IOException, InterruptedException {
        Path file = dir.resolve(role + ".token");
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, token(role) + "\n");
        return file;
    }

    public void kill9() throws IOException, InterruptedException {
        process.kill9();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        process.stop();
    }
}
