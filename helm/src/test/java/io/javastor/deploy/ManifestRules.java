package io.javastor.deploy;

import org.assertj.core.api.SoftAssertions;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

import static io.javastor.deploy.Manifests.allContainers;
import static io.javastor.deploy.Manifests.at;
import static io.javastor.deploy.Manifests.containers;
import static io.javastor.deploy.Manifests.id;
import static io.javastor.deploy.Manifests.name;
import static io.javastor.deploy.Manifests.podLabels;
import static io.javastor.deploy.Manifests.podSpec;
import static io.javastor.deploy.Manifests.str;

/** Rules every rendering of the chart keeps, whatever the values. */
final class ManifestRules {
    /** name[:tag] with an explicit tag or digest in the last path segment; no floating "latest". */
    private static final String IMAGE_WITH_TAG = "^[a-z0-9][a-z0-9._/:-]*/?[a-z0-9._-]+(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}|@sha256:[a-f0-9]{64})$";
    private static final Set<String> FORBIDDEN_VERBS = Set.of("*", "escalate", "bind", "impersonate");

    private ManifestRules() {
    }

    static void assertAll(Manifests m) {
        SoftAssertions soft = new SoftAssertions();
        containersArePinnedProbedAndBounded(m, soft);
        probesUseDeclaredPorts(m, soft);
        rbacIsLeastPrivilege(m, soft);
        serviceAccountsWithoutRulesMountNoToken(m, soft);
        selectorsMatchPods(m, soft);
        namesFitKubernetesLimits(m, soft);
        soft.assertAll();
    }

    static void containersArePinnedProbedAndBounded(Manifests m, SoftAssertions soft) {
        soft.assertThat(m.workloads().count()).as("workloads rendered").isPositive();
        m.workloads().forEach(w -> {
            for (Map<String, Object> c : allContainers(w)) {
                String where = id(w) + " container " + c.get("name");
                String image = Objects.toString(c.get("image"), "");
                soft.assertThat(image).as(where + " image").matches(IMAGE_WITH_TAG).doesNotEndWith(":latest");
                soft.assertThat(at(c, "resources", "requests", "cpu")).as(where + " cpu request").isNotNull();
                soft.assertThat(at(c, "resources", "requests", "memory")).as(where + " memory request").isNotNull();
                soft.assertThat(at(c, "resources", "limits", "memory")).as(where + " memory limit").isNotNull();
                soft.assertThat(at(c, "resources", "limits", "cpu")).as(where + " cpu limit").isNotNull();
            }
            for (Map<String, Object> c : containers(w)) {
                String where = id(w) + " container " + c.get("name");
                soft.assertThat(c.get("livenessProbe")).as(where + " livenessProbe").isNotNull();
                soft.assertThat(c.get("readinessProbe")).as(where + " readinessProbe").isNotNull();
            }
        });
    }

    /** A probe on a named port must name a port the container declares (a typo leaves the pod never Ready). */
    @SuppressWarnings("unchecked")
    static void probesUseDeclaredPorts(Manifests m, SoftAssertions soft) {
        m.workloads().forEach(w -> {
            for (Map<String, Object> c : containers(w)) {
                Set<Object> names = new HashSet<>();
                Set<Object> numbers = new HashSet<>();
                for (Map<String, Object> p : (List<Map<String, Object>>) c.getOrDefault("ports", List.of())) {
                    names.add(p.get("name"));
                    numbers.add(p.get("containerPort"));
                }
                for (String probe : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
                    for (String kind : List.of("httpGet", "tcpSocket")) {
                        Object port = at(c, probe, kind, "port");
                        if (port instanceof String s) {
                            soft.assertThat(names).as(id(w) + " " + c.get("name") + " " + probe + " port").contains(s);
                        } else if (port != null && !numbers.isEmpty()) {
                            soft.assertThat(numbers).as(id(w) + " " + c.get("name") + " " + probe + " port").contains(port);
                        }
                    }
                }
            }
        });
    }

    @SuppressWarnings("unchecked")
    static void rbacIsLeastPrivilege(Manifests m, SoftAssertions soft) {
        Set<String> accounts = m.ofKind("ServiceAccount").map(Manifests::name).collect(Collectors.toSet());
        for (String kind : List.of("Role", "ClusterRole")) {
            m.ofKind(kind).forEach(role -> {
                List<Map<String, Object>> rules = (List<Map<String, Object>>) role.get("rules");
                soft.assertThat(rules).as(id(role) + " rules").isNotEmpty();
                for (Map<String, Object> rule : rules) {
                    List<String> verbs = (List<String>) rule.get("verbs");
                    List<String> resources = (List<String>) rule.get("resources");
                    List<String> groups = (List<String>) rule.get("apiGroups");
                    soft.assertThat(verbs).as(id(role) + " verbs").isNotEmpty().doesNotContainAnyElementsOf(FORBIDDEN_VERBS);
                    soft.assertThat(resources).as(id(role) + " resources").isNotEmpty().doesNotContain("*")
                            .noneMatch(r -> r.endsWith("/*"));
                    // Secrets: only named ones, only read (a component's own secret settings, kubernetes-config-rbac.yaml).
                    if (resources.stream().anyMatch(r -> r.startsWith("secrets"))) {
                        soft.assertThat(rule.get("resourceNames")).as(id(role) + " secrets by name").isInstanceOf(List.class);
                        soft.assertThat((List<Object>) rule.getOrDefault("resourceNames", List.of())).as(id(role) + " secret names").isNotEmpty();
                        soft.assertThat(verbs).as(id(role) + " secrets verbs").containsExactly("get");
                        soft.assertThat(role.get("kind")).as(id(role) + " secrets in a namespaced Role").isEqualTo("Role");
                    }
                    soft.assertThat(groups).as(id(role) + " apiGroups").isNotNull().doesNotContain("*");
                    soft.assertThat(rule).as(id(role) + " nonResourceURLs").doesNotContainKey("nonResourceURLs");
                }
            });
        }
        for (String kind : List.of("RoleBinding", "ClusterRoleBinding")) {
            m.ofKind(kind).forEach(b -> {
                String roleKind = str(b, "roleRef", "kind");
                String roleName = str(b, "roleRef", "name");
                soft.assertThat(roleName).as(id(b) + " roleRef").isNotIn("cluster-admin", "admin", "edit");
                soft.assertThat(m.find(roleKind, roleName)).as(id(b) + " refers to a rendered " + roleKind + " " + roleName).isPresent();
                if ("ClusterRoleBinding".equals(kind)) {
                    soft.assertThat(roleKind).as(id(b) + " binds a ClusterRole").isEqualTo("ClusterRole");
                }
                for (Map<String, Object> s : (List<Map<String, Object>>) b.get("subjects")) {
                    soft.assertThat(s.get("kind")).as(id(b) + " subject kind").isEqualTo("ServiceAccount");
                    soft.assertThat(accounts).as(id(b) + " subject").contains((String) s.get("name"));
                }
            });
        }
        // Every pod runs as an account of its own, never "default".
        m.workloads().forEach(w -> soft.assertThat(accounts).as(id(w) + " serviceAccountName")
                .contains((String) podSpec(w).get("serviceAccountName")));
    }

    /** An account with no binding has nothing to do with the API: it must not get a token either. */
    @SuppressWarnings("unchecked")
    static void serviceAccountsWithoutRulesMountNoToken(Manifests m, SoftAssertions soft) {
        Set<String> bound = new HashSet<>();
        m.docs().stream().filter(d -> List.of("RoleBinding", "ClusterRoleBinding").contains(d.get("kind")))
                .forEach(b -> ((List<Map<String, Object>>) b.get("subjects")).forEach(s -> bound.add((String) s.get("name"))));
        m.ofKind("ServiceAccount").forEach(sa -> {
            String name = name(sa);
            boolean saMounts = !Boolean.FALSE.equals(sa.get("automountServiceAccountToken"));
            if (bound.contains(name)) {
                return;
            }
            soft.assertThat(saMounts).as("unbound " + name + " automountServiceAccountToken").isFalse();
            m.workloads().filter(w -> name.equals(podSpec(w).get("serviceAccountName"))).forEach(w ->
                    soft.assertThat(podSpec(w).get("automountServiceAccountToken")).as(id(w) + " mounts no token of unbound " + name)
                            .isNotEqualTo(true));
        });
        // And an account that does hold rules is actually bound somewhere (no dead SAs with a token).
        m.ofKind("ServiceAccount").filter(sa -> !Boolean.FALSE.equals(sa.get("automountServiceAccountToken")))
                .forEach(sa -> soft.assertThat(bound).as("token-mounting account " + name(sa) + " is bound").contains(name(sa)));
    }

    /** Services, PDBs and ServiceMonitors select the pods of a rendered workload. */
    @SuppressWarnings("unchecked")
    static void selectorsMatchPods(Manifests m, SoftAssertions soft) {
        List<Map<String, Object>> pods = m.workloads().map(Manifests::podLabels).toList();
        m.ofKind("Service").forEach(s -> {
            Map<String, Object> sel = (Map<String, Object>) at(s, "spec", "selector");
            soft.assertThat(pods).as(id(s) + " selects pods").anyMatch(l -> l.entrySet().containsAll(sel.entrySet()));
        });
        m.ofKind("PodDisruptionBudget").forEach(p -> {
            Map<String, Object> sel = (Map<String, Object>) at(p, "spec", "selector", "matchLabels");
            soft.assertThat(pods).as(id(p) + " selects pods").anyMatch(l -> l.entrySet().containsAll(sel.entrySet()));
        });
        m.workloads().forEach(w -> {
            Map<String, Object> sel = (Map<String, Object>) at(w, "spec", "selector", "matchLabels");
            soft.assertThat(podLabels(w).entrySet()).as(id(w) + " selector matches its template").containsAll(sel.entrySet());
        });
    }

    static void namesFitKubernetesLimits(Manifests m, SoftAssertions soft) {
        m.docs().forEach(d -> soft.assertThat(name(d)).as(id(d) + " name").hasSizeLessThanOrEqualTo(63)
                .matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?"));
    }
}
