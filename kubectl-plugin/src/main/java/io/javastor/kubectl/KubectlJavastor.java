package io.javastor.kubectl;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kubectl javastor ...}: Javastor's state and its day-2 actions from a terminal, through the public REST API
 * only. Defaults fit the local cluster ({@code ./javastor up}: its URL, admin token and CA under
 * {@code $JAVASTOR_HOME}); in Kubernetes, port-forward the gateway Service and pass {@code --rest-url},
 * {@code --token-file} and {@code --ca-file}. Exit codes: 0 done, 1 the API refused (its message says why), 2 bad
 * usage, 3 the gateway could not be reached or failed.
 */
@Command(name = "kubectl-javastor", mixinStandardHelpOptions = true, version = "kubectl-javastor 0.1.0",
        description = "Javastor volumes, pools and nodes from the command line (a client of the REST API).",
        subcommands = {GetCommand.class, VolumeCommands.Scale.class, VolumeCommands.Resize.class, NodeCommands.Cordon.class,
                NodeCommands.Uncordon.class, NodeCommands.Drain.class, NodeCommands.Label.class, DumpCommand.class,
                AutoComplete.GenerateCompletion.class})
public final class KubectlJavastor {
    static final int REFUSED = 1;
    static final int UNREACHABLE = 3;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--rest-url", description = "the REST gateway (default: $JAVASTOR_REST_URL, else https://127.0.0.1:8081)")
    String restUrl;

    @Option(names = "--token", description = "a bearer token (default: $JAVASTOR_TOKEN, else the local cluster's admin token)")
    String token;

    @Option(names = "--token-file", description = "a file holding the token")
    Path tokenFile;

    @Option(names = "--ca-file", description = "the CA the gateway's certificate chains to (default: the local cluster's)")
    Path caFile;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with our error handling (the tests run it in-process). */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new KubectlJavastor());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            if (e instanceof RestConnection.ApiError api) {
                err.println("error: " + api.kind() + ": " + api.getMessage());
                err.flush();
                return api.status() >= 500 ? UNREACHABLE : REFUSED;
            }
            if (e instanceof RestConnection.Unreachable u) {
                err.println("error: " + u.getMessage() + " (is the cluster up? --rest-url, or ./javastor up)");
                err.flush();
                return UNREACHABLE;
            }
            if (e instanceof IllegalArgumentException bad) {
                err.println("error: " + bad.getMessage());
                err.flush();
                return cmd.getCommandSpec().exitCodeOnInvalidInput();
            }
            throw e;
        });
        return cli;
    }

    /** The connection the options (or their defaults) name. */
    RestConnection connect() {
        Path home = Path.of(env("JAVASTOR_HOME", "/tmp/javastor"));
        String url = restUrl != null ? restUrl : env("JAVASTOR_REST_URL", "https://127.0.0.1:8081");
        String bearer = token != null ? token : System.getenv("JAVASTOR_TOKEN");
        Path file = tokenFile != null ? tokenFile : (bearer == null && Files.isReadable(home.resolve("auth/admin.token")) ? home.resolve("auth/admin.token") : null);
        if (file != null) {
            try {
                bearer = Files.readString(file, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw new IllegalArgumentException("--token-file " + file + ": " + e.getMessage());
            }
        }
        Path ca = caFile != null ? caFile : (Files.isReadable(home.resolve("tls/ca.crt")) ? home.resolve("tls/ca.crt") : null);
        return new RestConnection(url, bearer, ca);
    }

    private static String env(String name, String otherwise) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? otherwise : v;
    }
}
