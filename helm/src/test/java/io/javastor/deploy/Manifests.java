package io.javastor.deploy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/** Rendered manifests with small typed-less accessors (a manifest is a Map tree as SnakeYAML parsed it). */
record Manifests(List<Map<String, Object>> docs) {

    static final Set<String> WORKLOAD_KINDS = Set.of("Deployment", "DaemonSet", "StatefulSet");

    Stream<Map<String, Object>> ofKind(String kind) {
        return docs.stream().filter(d -> kind.equals(d.get("kind")));
    }

    Optional<Map<String, Object>> find(String kind, String name) {
        return ofKind(kind).filter(d -> name.equals(name(d))).findFirst();
    }

    Map<String, Object> get(String kind, String name) {
        return find(kind, name).orElseThrow(() -> new AssertionError("no " + kind + " named " + name + "; have "
                + ofKind(kind).map(Manifests::name).toList()));
    }

    /** A component's resource name as the chart's helpers make it (release "js" contains no "javastor"). */
    static String component(String component) {
        return Chart.RELEASE + "-javastor-" + component;
    }

    Stream<Map<String, Object>> workloads() {
        return docs.stream().filter(d -> WORKLOAD_KINDS.contains(d.get("kind")));
    }

    static String name(Map<String, Object> doc) {
        return str(doc, "metadata", "name");
    }

    static String id(Map<String, Object> doc) {
        return doc.get("kind") + "/" + name(doc);
    }

    static Map<String, Object> podSpec(Map<String, Object> workload) {
        return map(workload, "spec", "template", "spec");
    }

    static Map<String, Object> podLabels(Map<String, Object> workload) {
        return map(workload, "spec", "template", "metadata", "labels");
    }

    /** Long-running containers (not init containers). */
    static List<Map<String, Object>> containers(Map<String, Object> workload) {
        return list(podSpec(workload), "containers");
    }

    static List<Map<String, Object>> initContainers(Map<String, Object> workload) {
        Object o = podSpec(workload).get("initContainers");
        return o == null ? List.of() : list(podSpec(workload), "initContainers");
    }

    static List<Map<String, Object>> allContainers(Map<String, Object> workload) {
        List<Map<String, Object>> all = new ArrayList<>(containers(workload));
        all.addAll(initContainers(workload));
        return all;
    }

    static Map<String, Object> container(Map<String, Object> workload, String name) {
        return containers(workload).stream().filter(c -> name.equals(c.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError(id(workload) + " has no container " + name));
    }

    // --- tree access ---

    static Object at(Map<String, Object> root, String... path) {
        Object cur = root;
        for (String p : path) {
            if (!(cur instanceof Map<?, ?> m)) {
                return null;
            }
            cur = m.get(p);
        }
        return cur;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Map<String, Object> root, String... path) {
        Object o = at(root, path);
        if (!(o instanceof Map)) {
            throw new AssertionError("not a map at " + String.join(".", path) + ": " + o);
        }
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> list(Map<String, Object> root, String... path) {
        Object o = at(root, path);
        if (!(o instanceof List)) {
            throw new AssertionError("not a list at " + String.join(".", path) + ": " + o);
        }
        return (List<Map<String, Object>>) o;
    }

    static String str(Map<String, Object> root, String... path) {
        Object o = at(root, path);
        return o == null ? null : o.toString();
    }
}
