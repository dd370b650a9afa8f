package io.javastor.kubectl;

import static io.javastor.kubectl.Output.Column.of;
import static io.javastor.kubectl.Output.Column.wide;
import static io.javastor.kubectl.RestConnection.segment;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;

/** {@code get RESOURCE [ID]}: what the cluster has, as a table or as the API's objects. */
@Command(name = "get", mixinStandardHelpOptions = true, description = "Show volumes, pools, nodes, replica topology, block devices or events.")
final class GetCommand implements Callable<Integer> {

    @ParentCommand
    KubectlJavastor root;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RESOURCE",
            description = "volumes | volume | pools | pool | nodes | node | replica-topology | block-devices | events | snapshots")
    String resource;

    @Parameters(index = "1", arity = "0..1", paramLabel = "ID", description = "a volume, pool or node id (block-devices: the node)")
    String id;

    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table | wide | json | yaml (default: ${DEFAULT-VALUE})")
    String output;

    @Option(names = "--resource", description = "events: only those of this resource id")
    String resourceId;

    @Option(names = "--all", description = "block-devices: also those in use (not usable for a pool)")
    boolean all;

    private static final List<Output.Column> VOLUME = List.of(
            of("ID", v -> v.path("spec").path("uuid").asString()),
            of("SIZE", v -> Output.bytes(v.path("spec").path("size"))),
            of("REPLICAS", v -> v.path("spec").path("num_replicas").asString()),
            of("STATUS", v -> v.path("state").path("status").asString()),
            of("TARGET-NODE", v -> v.path("state").path("target").path("node").asString()),
            wide("THIN", v -> v.path("spec").path("thin").asString()),
            wide("TARGET", v -> v.path("state").path("target").path("deviceUri").asString()));
    private static final List<Output.Column> NODE = List.of(
            of("ID", n -> n.path("id").asString()),
            of("GRPC-ENDPOINT", n -> n.path("state").path("grpcEndpoint").asString(n.path("spec").path("grpcEndpoint").asString())),
            of("STATUS", n -> n.path("state").path("status").asString("Unknown")),
            // Mayastor's v0 node shape: cordondrainstate holds exactly one of cordonedstate, drainingstate, drainedstate.
            of("CORDONED", n -> Boolean.toString(!n.path("spec").path("cordondrainstate").isMissingNode()
                    && !n.path("spec").path("cordondrainstate").isNull())),
            wide("NQN", n -> n.path("spec").path("node_nqn").asString()),
            wide("LABELS", n -> labels(n.path("spec").path("labels"))));
    private static final List<Output.Column> POOL = List.of(
            of("ID", p -> p.path("id").asString()),
            of("NODE", p -> p.path("spec").path("node").asString(p.path("state").path("node").asString())),
            of("STATUS", p -> p.path("state").path("status").asString("Unknown")),
            of("CAPACITY", p -> Output.bytes(p.path("state").path("capacity"))),
            of("USED", p -> Output.bytes(p.path("state").path("used"))),
            of("DISKS", p -> String.join(",", strings(p.path("spec").path("disks")))),
            wide("COMMITTED", p -> Output.bytes(p.path("state").path("committed"))),
            wide("LABELS", p -> labels(p.path("spec").path("labels"))));
    private static final List<Output.Column> TOPOLOGY = List.of(
            of("VOLUME", r -> r.path("volume").asString()),
            of("REPLICA", r -> r.path("replica").asString()),
            of("NODE", r -> r.path("node").asString()),
            of("POOL", r -> r.path("pool").asString()),
            of("STATE", r -> r.path("state").asString()),
            of("CHILD-STATUS", r -> r.path("child-status").asString()),
            of("REBUILD%", r -> r.path("rebuild-progress").asString()));
    private static final List<Output.Column> BLOCK_DEVICE = List.of(
            of("DEVNAME", d -> d.path("devname").asString()),
            of("TYPE", d -> d.path("devtype").asString()),
            of("SIZE", d -> Output.bytes(d.path("size"))),
            of("AVAILABLE", d -> d.path("available").asString()),
            of("WHY-NOT", d -> d.path("unavailable_reason").asString()),
            wide("FILESYSTEM", d -> d.path("filesystem").path("fstype").asString()),
            wide("DEVLINKS", d -> String.join(",", strings(d.path("devlinks")))));
    private static final List<Output.Column> EVENT = List.of(
            of("TIME", e -> e.path("time").asString()),
            of("SEVERITY", e -> e.path("severity").asString()),
            of("KIND", e -> e.path("kind").asString()),
            of("RESOURCE", e -> e.path("resource_kind").asString() + "/" + e.path("resource_id").asString()),
            of("MESSAGE", e -> e.path("message").asString()));

    @Override
    public Integer call() {
        Output format = format(output);
        RestConnection rest = root.connect();
        var out = spec.commandLine().getOut();
        switch (resource) {
            case "volumes" -> {
                JsonNode page = rest.get("/v0/volumes");
                format.print(out, page, list(page.path("entries")), VOLUME);
            }
            case "volume" -> {
                JsonNode v = rest.get("/v0/volumes/" + segment(require("volume")));
                format.print(out, v, List.of(v), VOLUME);
            }
            case "nodes" -> {
                JsonNode nodes = rest.get("/v0/nodes");
                format.print(out, nodes, list(nodes), NODE);
            }
            case "node" -> {
                JsonNode n = rest.get("/v0/nodes/" + segment(require("node")));
                format.print(out, n, List.of(n), NODE);
            }
            case "pools" -> {
                JsonNode pools = rest.get("/v0/pools");
                format.print(out, pools, list(pools), POOL);
            }
            case "pool" -> {
                JsonNode p = rest.get("/v0/pools/" + segment(require("pool")));
                format.print(out, p, List.of(p), POOL);
            }
            case "replica-topology" -> {
                List<JsonNode> volumes = id == null ? list(rest.get("/v0/volumes").path("entries"))
                        : List.of(rest.get("/v0/volumes/" + segment(id)));
                ArrayNode rows = RestConnection.JSON.createArrayNode();
                for (JsonNode v : volumes) {
                    for (Map.Entry<String, JsonNode> r : v.path("state").path("replica_topology").properties()) {
                        var row = rows.addObject().put("volume", v.path("spec").path("uuid").asString()).put("replica", r.getKey());
                        r.getValue().properties().forEach(f -> row.set(f.getKey(), f.getValue()));
                    }
                }
                format.print(out, rows, list(rows), TOPOLOGY);
            }
            case "block-devices" -> {
                JsonNode devices = rest.get("/v0/nodes/" + segment(require("node")) + "/block_devices" + (all ? "?all=true" : ""));
                format.print(out, devices, list(devices), BLOCK_DEVICE);
            }
            case "events" -> {
                JsonNode page = rest.get("/v0/events" + (resourceId == null ? "" : "?resource_id=" + segment(resourceId)));
                format.print(out, page, list(page.path("entries")), EVENT);
            }
            case "snapshots" -> throw new IllegalArgumentException("snapshots: this version has none yet (issue 15)");
            default -> throw new IllegalArgumentException("unknown resource '" + resource + "': volumes, volume ID, pools, pool ID, "
                    + "nodes, node ID, replica-topology [ID], block-devices NODE, events");
        }
        return 0;
    }

    private String require(String what) {
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("get " + resource + " needs the " + what + "'s id: kubectl javastor get " + resource + " ID");
        }
        return id;
    }

    static Output format(String name) {
        try {
            return Output.valueOf(name.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-o " + name + ": use table, wide, json or yaml");
        }
    }

    static List<JsonNode> list(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asString()));
        return out;
    }

    private static String labels(JsonNode map) {
        List<String> out = new ArrayList<>();
        map.properties().forEach(e -> out.add(e.getKey() + "=" + e.getValue().asString()));
        return String.join(",", out);
    }
}
