package io.javastor.csi.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;

/**
 * {@code ./javastor host-secrets}' argument checks, before it dials anything. Asking a real agent is what the e2e VM
 * tests do (LocalCluster.hostConnectOptions: the guest connects with what it prints).
 */
class HostSecretsCommandTest {
    private static String[] args(String volume, String node) {
        return new String[] {"--agent", "127.0.0.1:1", "--volume", volume, "--node", node, "--ca-file", "/nonexistent/ca.crt",
                "--cert-file", "/nonexistent/c.crt", "--key-file", "/nonexistent/c.key"};
    }

    private static String run(String[] args, int expectedExit) {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new HostSecretsCommand()).setErr(new PrintWriter(err));
        assertThat(cli.execute(args)).as("exit code; stderr: %s", err).isEqualTo(expectedExit);
        return err.toString();
    }

    @Test
    void aVolumeThatIsNotAUuidIsRefusedNamingIt() {
        assertThat(run(args("vol-1", "app-1"), 2)).contains("--volume: 'vol-1' is not a uuid");
    }

    @Test
    void aNodeThatIsNotANodeIdIsRefusedNamingIt() {
        assertThat(run(args("3f1c8c52-9d43-4c32-8a0e-2f3a4b5c6d7e", "App_1,x"), 2)).contains("--node: 'App_1,x' is not a node id");
    }

    @Test
    void missingCertificatesAreAnErrorNamingThem() {
        // Valid arguments, but the certificate files are not there: the TLS set-up says which (picocli's exit 1).
        assertThat(run(args("3f1c8c52-9d43-4c32-8a0e-2f3a4b5c6d7e", "app-1"), 1)).contains("/nonexistent/");
    }
}
