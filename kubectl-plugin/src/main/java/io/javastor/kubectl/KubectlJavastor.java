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
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code kubectl javastor ...}: Javastor's state and its day-2 actions from a terminal, through the public REST API
 * only. The gateway is, in this order: {@code --rest-url} (or {@code $JAVASTOR_REST_URL}); in Kubernetes, found
 * through the kubeconfig ({@code --kubeconfig}, {@code $KUBECONFIG} or {@code ~/.kube/config}) and port-forwarded
 * to, as Mayastor's plugin does ({@link KubernetesGateway}); else the local cluster ({@code ./javastor up}: its URL,
 * admin token and CA under {@code $JAVASTOR_HOME}). A running local cluster wins over a kubeconfig lying around unless
 * a Kubernetes option ({@code --kubeconfig}, {@code --context}, {@code -n}, {@code --release}) is given. Exit codes: 0
 * done, 1 the API refused (its message says why), 2 bad usage, 3 the gateway could not be reached or failed.
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

    @Option(names = "--ca-file", description = "the CA the gateway's certificate chains to (default: the chart's cluster CA in Kubernetes, else the local cluster's)")
    Path caFile;

    @Option(names = "--kubeconfig", scope = ScopeType.INHERIT,
            description = "Kubernetes: the kubeconfig to find the gateway through (default: $KUBECONFIG, else ~/.kube/config)")
    Path kubeconfig;

    @Option(names = "--context", scope = ScopeType.INHERIT, description = "Kubernetes: the kubeconfig context (default: its current one)")
    String context;

    @Option(names = {"-n", "--namespace"}, scope = ScopeType.INHERIT,
            description = "Kubernetes: the namespace Javastor is installed in (default: " + KubernetesGateway.DEFAULT_NAMESPACE + ")")
    String namespace;

    @Option(names = "--release", scope = ScopeType.INHERIT, description = "Kubernetes: the Helm release, when a namespace holds more than one")
    String release;

    private RestConnection connection;
    private KubernetesGateway kubernetes;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with our error handling (the tests run it in-process). */
    public static CommandLine commandLine() {
        KubectlJavastor root = new KubectlJavastor();
        CommandLine cli = new CommandLine(root);
        // The port-forward (and its Kubernetes client) ends with the command.
        cli.setExecutionStrategy(parsed -> {
            try {
                return new CommandLine.RunLast().execute(parsed);
            } finally {
                root.close();
            }
        });
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            if (e instanceof KubernetesGateway.Problem k) {
                err.println("error: " + k.getMessage());
                err.flush();
                return k.exit();
            }
            if (e instanceof RestConnection.ApiError api) {
                err.println("error: " + api.kind() + ": " + api.getMessage());
                err.flush();
                return api.status() >= 500 ? UNREACHABLE : REFUSED;
            }
            if (e instanceof RestConnection.Unreachable u) {
                err.println("error: " + u.getMessage() + (root.kubernetes != null ? "" : " (is the cluster up? --rest-url, a kubeconfig, or ./javastor up)"));
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

    /** The connection the options (or their defaults) name; one per command run. */
    RestConnection connect() {
        if (connection == null) {
            connection = open();
        }
        return connection;
    }

    /** The namespace the gateway was found in when it was found through Kubernetes, else null. */
    String kubernetesNamespace() {
        return kubernetes != null ? kubernetes.namespace() : namespace;
    }

    private RestConnection open() {
        Path home = Path.of(env("JAVASTOR_HOME", "/tmp/javastor"));
        String url = restUrl != null ? restUrl : env("JAVASTOR_REST_URL", null);
        String bearer = token != null ? token : System.getenv("JAVASTOR_TOKEN");
        if (url == null && throughKubernetes(home)) {
            bearer = tokenFile != null ? readToken(tokenFile) : bearer;
            kubernetes = KubernetesGateway.open(new KubernetesGateway.Target(kubeconfig, context, namespace, release), caFile != null,
                    bearer != null && !bearer.isBlank());
            KubernetesGateway k = kubernetes;
            return new RestConnection(k.url(), bearer != null && !bearer.isBlank() ? bearer : k.token(),
                    caFile != null ? RestConnection.trusting(readCa(caFile), "--ca-file " + caFile)
                            : k.caPem() != null ? RestConnection.trusting(k.caPem(), "the cluster CA ConfigMap") : null,
                    k.describe(), k::trouble);
        }
        url = url != null ? url : "https://127.0.0.1:8081";
        Path file = tokenFile != null ? tokenFile : (bearer == null && Files.isReadable(home.resolve("auth/admin.token")) ? home.resolve("auth/admin.token") : null);
        if (file != null) {
            bearer = readToken(file);
        }
        Path ca = caFile != null ? caFile : (Files.isReadable(home.resolve("tls/ca.crt")) ? home.resolve("tls/ca.crt") : null);
        return new RestConnection(url, bearer, ca);
    }

    /** Kubernetes when asked for by an option, else when no local cluster runs here and a kubeconfig is present. */
    private boolean throughKubernetes(Path home) {
        if (kubeconfig != null || context != null || namespace != null || release != null) {
            return true;
        }
        boolean localCluster = Files.isReadable(home.resolve("tls/ca.crt")) || Files.isReadable(home.resolve("auth/admin.token"));
        return !localCluster && KubernetesGateway.kubeconfigPresent();
    }

    private static String readToken(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IllegalArgumentException("--token-file " + file + ": " + e.getMessage());
        }
    }

    private static byte[] readCa(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("--ca-file " + file + ": " + e.getMessage());
        }
    }

    private void close() {
        if (kubernetes != null) {
            kubernetes.close();
        }
    }

    private static String env(String name, String otherwise) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? otherwise : v;
    }
}
