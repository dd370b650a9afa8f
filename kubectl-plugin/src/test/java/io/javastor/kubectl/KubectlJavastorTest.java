package io.javastor.kubectl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.testsupport.ClusterCertificates;
import io.javastor.testsupport.ProcessCluster;
import io.javastor.testsupport.RestGatewayProcess;
import tools.jackson.databind.JsonNode;

/**
 * Every verb of the plugin against a real cluster (etcd, core agent, REST gateway and two io-engines, as processes,
 * with mTLS and token authentication on): the tables say what the API says, {@code -o json} parses back to the API's
 * objects, actions change the cluster, refusals exit 1 with the API's reason, bad usage 2, no gateway 3.
 */
class KubectlJavastorTest {
    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    private static ProcessCluster cluster;
    private static Path dir;
    private static RestGatewayProcess gateway;
    private static List<String> connection;
    private static String volume;

    record Run(int exit, String out, String err) {
        JsonNode json() {
            return RestConnection.JSON.readTree(out);
        }
    }

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = ProcessCluster.on(etcd.endpoint(), "kubectl").nodes("node-1", "node-2").pools(64).withGateway().start();
        dir = cluster.dir();
        gateway = cluster.gateway();
        connection = List.of("--rest-url", gateway.url(), "--token-file", gateway.tokenFile("admin").toString(),
                "--ca-file", ClusterCertificates.shared().dir().resolve("ca.crt").toString());
        volume = UUID.randomUUID().toString();
        new RestConnection(gateway.url(), gateway.token("admin"), ClusterCertificates.shared().dir().resolve("ca.crt"))
                .put("/v0/volumes/" + volume, Map.of("size", 4 << 20, "replicas", 1, "thin", false, "policy", Map.of("self_heal", true)));
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Run run(String... args) {
        List<String> all = new ArrayList<>(connection);
        all.addAll(List.of(args));
        return runRaw(all.toArray(String[]::new));
    }

    private static Run runRaw(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cli = KubectlJavastor.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private static Run ok(String... args) {
        Run r = run(args);
        assertThat(r.exit()).as("exit of %s: %s", List.of(args), r.err()).isZero();
        return r;
    }

    @Test
    void getShowsWhatTheApiHasAsTablesJsonAndYaml() {
        Run table = ok("get", "nodes");
        // Printed for the README's tour (real output).
        System.out.println("$ kubectl javastor get nodes\n" + table.out() + "$ kubectl javastor get pools\n" + ok("get", "pools").out()
                + "$ kubectl javastor get volumes -o wide\n" + ok("get", "volumes", "-o", "wide").out()
                + "$ kubectl javastor get replica-topology\n" + ok("get", "replica-topology").out());
        assertThat(table.out().lines().findFirst().orElseThrow()).startsWith("ID").contains("STATUS").contains("CORDONED");
        assertThat(table.out()).containsPattern("node-1\\s+\\S+\\s+Online").containsPattern("node-2\\s+\\S+\\s+Online");
        assertThat(ok("get", "nodes", "-o", "json").json()).hasSize(2);
        assertThat(ok("get", "node", "node-1", "-o", "yaml").out()).contains("id: \"node-1\"");
        assertThat(ok("get", "node", "node-1", "-o", "wide").out()).contains("NQN").contains("nqn.2019-05.io.javastor:node-name:node-1");

        assertThat(ok("get", "pools").out()).containsPattern("pool-node-1\\s+node-1\\s+Online\\s+\\d+Mi");
        assertThat(ok("get", "pool", "pool-node-2", "-o", "json").json().path("id").asString()).isEqualTo("pool-node-2");

        assertThat(ok("get", "volumes").out()).containsPattern(volume + "\\s+4Mi\\s+1\\s+Online");
        JsonNode v = ok("get", "volume", volume, "-o", "json").json();
        assertThat(v.path("spec").path("uuid").asString()).isEqualTo(volume);
        JsonNode topology = ok("get", "replica-topology", volume, "-o", "json").json();
        assertThat(topology).hasSize(1);
        assertThat(topology.get(0).path("volume").asString()).isEqualTo(volume);

        assertThat(ok("get", "events", "--resource", volume).out()).contains("VolumeCreated");
        Run devices = ok("get", "block-devices", "node-1", "--all");
        assertThat(devices.out()).satisfiesAnyOf(o -> assertThat(o).startsWith("DEVNAME"), o -> assertThat(o).contains("No resources found"));
    }

    @Test
    void actionsChangeTheCluster() {
        assertThat(ok("scale", "volume", volume, "2").out()).contains("scaled to 2 replica(s)");
        await("two replicas in the topology").atMost(Duration.ofSeconds(60))
                .until(() -> ok("get", "replica-topology", volume, "-o", "json").json().size() == 2);
        assertThat(ok("resize", "volume", volume, "8Mi").out()).contains("resized to 8Mi");
        assertThat(ok("get", "volume", volume, "-o", "json").json().path("spec").path("size").asLong()).isEqualTo(8 << 20);
        assertThat(ok("scale", "volume", volume, "1").out()).contains("scaled to 1");

        ok("cordon", "node", "node-2");
        assertThat(ok("get", "node", "node-2", "-o", "json").json().path("spec").path("cordondrainstate").has("cordonedstate")).isTrue();
        ok("uncordon", "node", "node-2");
        assertThat(ok("get", "node", "node-2", "-o", "json").json().path("spec").path("cordondrainstate").has("cordonedstate")).isFalse();

        assertThat(ok("label", "node", "node-1", "zone=a").out()).contains("labeled zone=a");
        assertThat(ok("get", "node", "node-1", "-o", "json").json().path("spec").path("labels").path("zone").asString()).isEqualTo("a");
        Run clash = run("label", "node", "node-1", "zone=b");
        assertThat(clash.exit()).isEqualTo(1);
        ok("label", "node", "node-1", "zone=b", "--overwrite");
        ok("label", "node", "node-1", "zone-");
        assertThat(ok("get", "node", "node-1", "-o", "json").json().path("spec").path("labels").has("zone")).isFalse();
        ok("label", "pool", "pool-node-1", "tier=fast");
        assertThat(ok("get", "pool", "pool-node-1", "-o", "json").json().path("spec").path("labels").path("tier").asString()).isEqualTo("fast");

        // Draining cordons the node and waits until it holds no volume target (this volume is not published: at once).
        assertThat(ok("drain", "node", "node-2", "--drain-timeout", "PT90S").out()).contains("node node-2 drained");
        assertThat(ok("get", "node", "node-2", "-o", "json").json().path("spec").path("cordondrainstate").has("drainedstate")).isTrue();
        ok("uncordon", "node", "node-2");
        assertThat(ok("get", "node", "node-2", "-o", "json").json().path("spec").path("cordondrainstate").has("drainedstate")).isFalse();
    }

    @Test
    void refusalsUsageErrorsAndNoGatewayHaveTheirExitCodes() {
        Run missing = run("get", "volume", UUID.randomUUID().toString());
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).startsWith("error: NotFound:");
        Run badSize = run("resize", "volume", volume, "8GB");
        assertThat(badSize.exit()).isEqualTo(2);
        assertThat(badSize.err()).contains("10Gi");
        assertThat(run("get", "widgets").exit()).isEqualTo(2);
        assertThat(run("get", "volumes", "-o", "xml").err()).contains("table, wide, json or yaml");
        assertThat(run("get", "snapshots").err()).contains("issue 15");
        Run noToken = runRaw("--rest-url", gateway.url(), "--token", "not-a-token",
                "--ca-file", ClusterCertificates.shared().dir().resolve("ca.crt").toString(), "get", "volumes");
        assertThat(noToken.exit()).isEqualTo(1);
        assertThat(noToken.err()).contains("Unauthorized");
        Run down = runRaw("--rest-url", "https://127.0.0.1:1", "--token", "x", "get", "volumes");
        assertThat(down.exit()).isEqualTo(3);
        assertThat(down.err()).contains("cannot reach the REST gateway at https://127.0.0.1:1");
    }

    @Test
    void dumpSystemWritesASupportBundle() throws Exception {
        Path bundle = dir.resolve("bundle.tar.gz");
        Run r = ok("dump", "system", "-f", bundle.toString(), "--logs-dir", dir.toString());
        assertThat(r.out()).contains("wrote " + bundle);
        Map<String, String> entries = new HashMap<>();
        try (InputStream in = Files.newInputStream(bundle); TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(in))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                entries.put(e.getName(), new String(tar.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        assertThat(entries).containsKeys("javastor-dump/api/nodes.json", "javastor-dump/api/pools.json", "javastor-dump/api/volumes.json",
                "javastor-dump/api/specs.json", "javastor-dump/api/events.json", "javastor-dump/api/block-devices/node-1.json",
                "javastor-dump/api/snapshots.json", "javastor-dump/api/app-nodes.json");
        assertThat(entries.get("javastor-dump/api/snapshots.json")).as("the gateway's answer, not an error").contains("\"entries\"");
        assertThat(entries.get("javastor-dump/api/volumes.json")).contains(volume);
        assertThat(entries.keySet()).anyMatch(k -> k.startsWith("javastor-dump/logs/") && k.endsWith(".log"));
        assertThat(entries).doesNotContainKey("javastor-dump/errors.txt");
    }
}
