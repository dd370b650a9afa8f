package io.javastor.kubectl;

import static io.javastor.kubectl.RestConnection.segment;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/** Day-2 actions on nodes (cordon, uncordon, drain) and labels on nodes and pools. */
final class NodeCommands {
    /** The cordon/drain label this tool sets unless told another (several tools may cordon one node; each lifts its own). */
    static final String DEFAULT_LABEL = "kubectl-javastor";

    private NodeCommands() {
    }

    private static void requireNode(String kind) {
        if (!kind.equals("node")) {
            throw new IllegalArgumentException("'" + kind + "': only nodes are cordoned, uncordoned or drained (… node ID)");
        }
    }

    @Command(name = "cordon", mixinStandardHelpOptions = true, description = "Place no new replicas or targets on a node: cordon node ID.")
    static final class Cordon implements Callable<Integer> {
        @ParentCommand
        KubectlJavastor root;
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "node")
        String kind;
        @Parameters(index = "1", paramLabel = "ID")
        String id;
        @Option(names = "--label", defaultValue = DEFAULT_LABEL, description = "the cordon's label (default: ${DEFAULT-VALUE})")
        String label;

        @Override
        public Integer call() {
            requireNode(kind);
            root.connect().put("/v0/nodes/" + segment(id) + "/cordon/" + segment(label), null);
            spec.commandLine().getOut().println("node " + id + " cordoned (" + label + ")");
            return 0;
        }
    }

    @Command(name = "uncordon", mixinStandardHelpOptions = true, description = "Lift a cordon or drain: uncordon node ID.")
    static final class Uncordon implements Callable<Integer> {
        @ParentCommand
        KubectlJavastor root;
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "node")
        String kind;
        @Parameters(index = "1", paramLabel = "ID")
        String id;
        @Option(names = "--label", defaultValue = DEFAULT_LABEL, description = "the cordon's label (default: ${DEFAULT-VALUE})")
        String label;

        @Override
        public Integer call() {
            requireNode(kind);
            root.connect().delete("/v0/nodes/" + segment(id) + "/cordon/" + segment(label));
            spec.commandLine().getOut().println("node " + id + " uncordoned (" + label + ")");
            return 0;
        }
    }

    @Command(name = "drain", mixinStandardHelpOptions = true,
            description = "Cordon a node and wait until it holds no volume target (nexus): drain node ID. Targets are not "
                    + "moved for you (that would cut off their hosts): republish those volumes elsewhere.")
    static final class Drain implements Callable<Integer> {
        @ParentCommand
        KubectlJavastor root;
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "node")
        String kind;
        @Parameters(index = "1", paramLabel = "ID")
        String id;
        @Option(names = "--label", defaultValue = DEFAULT_LABEL, description = "the drain's label (default: ${DEFAULT-VALUE})")
        String label;
        @Option(names = "--drain-timeout", defaultValue = "PT10M", description = "how long to wait (ISO-8601; PT0S: do not wait)")
        Duration timeout;

        @Override
        public Integer call() throws InterruptedException {
            requireNode(kind);
            RestConnection rest = root.connect();
            rest.put("/v0/nodes/" + segment(id) + "/drain/" + segment(label), null);
            var out = spec.commandLine().getOut();
            Instant deadline = Instant.now().plus(timeout);
            while (true) {
                JsonNode state = rest.get("/v0/nodes/" + segment(id)).path("spec").path("cordondrainstate");
                if (state.has("drainedstate")) {
                    out.println("node " + id + " drained (" + label + ")");
                    return 0;
                }
                if (!Instant.now().isBefore(deadline)) {
                    spec.commandLine().getErr().println("node " + id + " is still draining after " + timeout
                            + " (it goes on; see kubectl javastor get node " + id + ")");
                    return KubectlJavastor.REFUSED;
                }
                Thread.sleep(1000); // polling the API for the drain's end, not synchronisation
            }
        }
    }

    @Command(name = "label", mixinStandardHelpOptions = true,
            description = "Set or remove a label: label node|pool ID key=value | key- (like kubectl label).")
    static final class Label implements Callable<Integer> {
        @ParentCommand
        KubectlJavastor root;
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "node|pool")
        String kind;
        @Parameters(index = "1", paramLabel = "ID")
        String id;
        @Parameters(index = "2", paramLabel = "key=value|key-")
        String change;
        @Option(names = "--overwrite", description = "replace a key's existing value")
        boolean overwrite;

        @Override
        public Integer call() {
            String base = switch (kind) {
                case "node" -> "/v0/nodes/";
                case "pool" -> "/v0/pools/";
                default -> throw new IllegalArgumentException("'" + kind + "': label node ID ... or label pool ID ...");
            };
            RestConnection rest = root.connect();
            var out = spec.commandLine().getOut();
            if (change.endsWith("-") && !change.contains("=")) {
                String key = change.substring(0, change.length() - 1);
                rest.delete(base + segment(id) + "/label/" + segment(key));
                out.println(kind + " " + id + " unlabeled " + key);
            } else if (change.indexOf('=') > 0) {
                rest.put(base + segment(id) + "/label/" + segment(change) + (overwrite ? "?overwrite=true" : ""), null);
                out.println(kind + " " + id + " labeled " + change);
            } else {
                throw new IllegalArgumentException("'" + change + "': give key=value to set or key- to remove");
            }
            return 0;
        }
    }
}
