package io.javastor.deploy;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.javastor.deploy.Manifests.at;
import static io.javastor.deploy.Manifests.list;
import static io.javastor.deploy.Manifests.map;
import static org.assertj.core.api.Assertions.assertThat;

/** The DiskPool CRD shipped in crds/ (helm template leaves crds/ out, so it is read from the chart). */
class DiskPoolCrdTest {
    private static final Path CRD = Chart.dir().resolve("crds/diskpools.javastor.io.yaml");

    @Test
    @SuppressWarnings("unchecked")
    void schemaRequiresNodeAndOneDiskAndHasStatus() throws IOException {
        Map<String, Object> crd = Chart.parseOne(Files.readString(CRD));
        assertThat(crd).containsEntry("kind", "CustomResourceDefinition");
        assertThat(at(crd, "metadata", "name")).isEqualTo("diskpools.javastor.io");
        assertThat(at(crd, "spec", "group")).isEqualTo("javastor.io");
        assertThat(at(crd, "spec", "scope")).isEqualTo("Namespaced");
        assertThat(at(crd, "spec", "names", "kind")).isEqualTo("DiskPool");

        List<Map<String, Object>> versions = list(crd, "spec", "versions");
        assertThat(versions).extracting(v -> v.get("name")).containsExactly("v1beta1");
        Map<String, Object> v = versions.get(0);
        assertThat(v).containsEntry("served", true).containsEntry("storage", true);
        assertThat(map(v, "subresources")).containsKey("status");

        Map<String, Object> schema = map(v, "schema", "openAPIV3Schema");
        Map<String, Object> spec = map(schema, "properties", "spec");
        assertThat((List<String>) spec.get("required")).containsExactlyInAnyOrder("node", "disks");
        assertThat(at(spec, "properties", "node", "type")).isEqualTo("string");
        Map<String, Object> disks = map(spec, "properties", "disks");
        assertThat(disks).containsEntry("type", "array").containsEntry("minItems", 1).containsEntry("maxItems", 1);
        assertThat(at(disks, "items", "type")).isEqualTo("string");

        Map<String, Object> status = map(schema, "properties", "status", "properties");
        assertThat(status).containsKeys("state", "capacity", "used", "available", "message");
        assertThat((List<String>) at(status, "state", "enum"))
                .contains("Creating", "Created", "Online", "Degraded", "Faulted", "Unknown");
        for (String bytes : List.of("capacity", "used", "available")) {
            assertThat(at(status, bytes, "type")).as(bytes).isEqualTo("integer");
            assertThat(at(status, bytes, "format")).as(bytes).isEqualTo("int64");
        }

        assertThat(list(v, "additionalPrinterColumns")).extracting(c -> c.get("name"))
                .contains("Node", "State", "Capacity", "Used", "Available", "Age");
        // Every printer column points at a field the schema defines.
        for (Map<String, Object> col : list(v, "additionalPrinterColumns")) {
            String path = col.get("jsonPath").toString();
            if (path.startsWith(".spec.") || path.startsWith(".status.")) {
                String[] parts = path.substring(1).replaceAll("\\[\\d+]", "").split("\\.");
                assertThat(at(schema, "properties", parts[0], "properties", parts[1])).as(path).isNotNull();
            }
        }
    }

    @Test
    void diskUriPatternAcceptsTheEngineSchemesOnly() throws IOException {
        Map<String, Object> crd = Chart.parseOne(Files.readString(CRD));
        String pattern = (String) at(list(crd, "spec", "versions").get(0),
                "schema", "openAPIV3Schema", "properties", "spec", "properties", "disks", "items", "pattern");
        assertThat(List.of("uring:///dev/sdb", "aio:///dev/nvme0n1", "malloc:///m0?size_mb=64",
                "uring:///var/local/javastor/pool.img?size_mb=10240")).allMatch(s -> s.matches(pattern));
        assertThat(List.of("/dev/sdb", "file:///x", "uring://", "nvmf://1.2.3.4:8420/nqn")).noneMatch(s -> s.matches(pattern));
    }
}
