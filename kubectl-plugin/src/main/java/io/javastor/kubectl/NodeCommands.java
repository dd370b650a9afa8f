package io.javastor.kubectl;

import static io.javastor.kubectl.RestConnection.segment;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

/** Day-2 actions on nodes (cordon, uncordon, drain) and labels on nodes and pools. */
final class NodeCommands {
    /** The cordon/drain label this tool sets unless told another (several tools may cordon one node; each lifts its own). */
    static final String DEFAULT_LABEL = "kubectl-javastor";
    private static final Set<String> NODE = Set.of("node");

    private NodeCommands() {
    }

    /** A cordon or drain, under a label. */
    abstract static class LabelledNodeAction extends TargetedCommand {
        @Option(names = "--label", defaultValue = DEFAULT_LABEL, description = "the cordon's or drain's label (default: ${DEFAULT-VALUE})")
        String label;

        String node() {
            kind(NODE);
            return "/v0/nodes/" + segment(id);
        }
    }

    @Command(name = "cordon", mixinStandardHelpOptions = true, description = "Place no new replicas or targets on a node: cordon node ID.")
    static final class Cordon extends LabelledNodeAction implements Callable<Integer> {
        @Override
        public Integer call() {
            root.connect().put(node() + "/cordon/" + segment(label), null);
            out().println("node " + id + " cordoned (" + label + ")");
            return 0;
        }
    }

    @Command(name = "uncordon", mixinStandardHelpOptions = true, description = "Lift a cordon or drain: uncordon node ID.")
    static final class Uncordon extends LabelledNodeAction implements Callable<Integer> {
        @Override
        public Integer call() {
            root.connect().delete(node() + "/cordon/" + segment(label));
            out().println("node " + id + " uncordoned (" + label + ")");
            return 0;
        }
    }

    @Command(name = "drain", mixinStandardHelpOptions = true,
            description = "Cordon a node and wait until it holds no volume target (nexus): drain node ID. Targets are not "
                    + "moved for you (that would cut off their hosts): republish those volumes elsewhere.")
    static final class Drain extends LabelledNodeAction implements Callable<Integer> {
        @Option(names = "--drain-timeout", defaultValue = "PT10M", description = "how long to wait (ISO-8601; PT0S: do not wait)")
        Duration timeout;

        @Override
        public Integer call() throws InterruptedException {
            String node = node();
            RestConnection rest = root.connect();
            rest.put(node + "/drain/" + segment(label), null);
            Instant deadline = Instant.now().plus(timeout);
            while (true) {
                JsonNode state = rest.get(node).path("spec").path("cordondrainstate");
                if (state.has("drainedstate")) {
                    out().println("node " + id + " drained (" + label + ")");
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
    static final class Label extends TargetedCommand implements Callable<Integer> {
        @Parameters(index = "2", paramLabel = "key=value|key-")
        String change;
        @Option(names = "--overwrite", description = "replace a key's existing value")
        boolean overwrite;

        @Override
        public Integer call() {
            String base = (kind(Set.of("node", "pool")).equals("node") ? "/v0/nodes/" : "/v0/pools/") + segment(id) + "/label/";
            RestConnection rest = root.connect();
            if (change.endsWith("-") && !change.contains("=")) {
                String key = change.substring(0, change.length() - 1);
                rest.delete(base + segment(key));
                out().println(kind + " " + id + " unlabeled " + key);
            } else if (change.indexOf('=') > 0) {
                rest.put(base + segment(change) + (overwrite ? "?overwrite=true" : ""), null);
                out().println(kind + " " + id + " labeled " + change);
            } else {
                throw new IllegalArgumentException("'" + change + "': give key=value to set or key- to remove");
            }
            return 0;
        }
    }
}
