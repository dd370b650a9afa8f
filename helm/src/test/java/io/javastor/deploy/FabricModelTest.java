package io.javastor.deploy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every object the chart renders, read strictly into fabric8's Kubernetes model: a key the model does not know (a
 * misspelt {@code readinesProbe}, a field at the wrong level) fails and is named. fabric8's classes keep unknown keys in
 * {@code additionalProperties} through a Jackson any-setter; the strict mapper turns any-setters off, so unknown keys
 * are errors. Kinds fabric8 has no model for here (the snapshot and Prometheus Operator kinds, which live in extension
 * modules) are listed in the output and must be exactly the expected ones.
 */
class FabricModelTest {
    /** Third-party kinds without a model in kubernetes-client-api (kubernetes-model-volumesnapshot and the
     * Prometheus Operator's model are separate artifacts we do not pull in for one test). */
    private static final Set<String> NOT_MODELLED = Set.of("snapshot.storage.k8s.io/v1 VolumeSnapshotClass",
            "monitoring.coreos.com/v1 ServiceMonitor", "monitoring.coreos.com/v1 PrometheusRule");

    /** Resolves apiVersion/kind to fabric8's class (unknown kinds come back generic). */
    private static final KubernetesSerialization KINDS = new KubernetesSerialization();
    private static final ObjectMapper STRICT = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setAnnotationIntrospector(new JacksonAnnotationIntrospector() {
                @Override
                public Boolean hasAnySetter(Annotated a) {
                    return Boolean.FALSE;
                }
            });

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"defaults", "non-default"})
    void everyRenderedObjectIsTheModelsWithNoUnknownKey(String values) {
        Manifests m = Chart.render(values.equals("defaults") ? "" : NonDefaultValues.EVERYTHING_ON);
        List<String> failures = new ArrayList<>();
        Set<String> notModelled = new TreeSet<>();
        int parsed = 0;
        for (Map<String, Object> doc : m.docs()) {
            String id = doc.get("apiVersion") + " " + doc.get("kind");
            Class<? extends KubernetesResource> type = KINDS.convertValue(doc, KubernetesResource.class).getClass();
            if (type == GenericKubernetesResource.class) {
                notModelled.add(id);
                continue;
            }
            try {
                STRICT.convertValue(doc, type);
                parsed++;
            } catch (IllegalArgumentException e) {
                failures.add(id + " " + Manifests.name(doc) + ": " + e.getMessage());
            }
        }
        System.out.printf("%s: %d objects parsed strictly into fabric8's model; not modelled by fabric8 (skipped): %s%n",
                values, parsed, notModelled);
        assertThat(failures).as("objects with keys fabric8's model does not know").isEmpty();
        assertThat(parsed).isGreaterThan(20);
        assertThat(NOT_MODELLED).as("kinds fabric8 does not model here").containsAll(notModelled);
    }

    /** The strict mapper does catch a misspelt key (the test can fail). */
    @org.junit.jupiter.api.Test
    void aMisspeltKeyIsNamed() {
        Map<String, Object> pod = Chart.parseOne("""
                apiVersion: v1
                kind: Pod
                metadata: {name: p}
                spec:
                  containers:
                    - name: c
                      image: i
                      readinesProbe: {tcpSocket: {port: 1}}
                """);
        Class<? extends KubernetesResource> type = KINDS.convertValue(pod, KubernetesResource.class).getClass();
        assertThat(type.getSimpleName()).isEqualTo("Pod");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> STRICT.convertValue(pod, type)))
                .hasMessageContaining("readinesProbe");
    }
}
