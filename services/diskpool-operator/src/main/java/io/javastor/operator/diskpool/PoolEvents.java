package io.javastor.operator.diskpool;

import java.time.Instant;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.MicroTime;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/** Kubernetes Events about DiskPools (kubectl describe dsp shows them). Best effort: a lost event is only logged. */
public final class PoolEvents {
    private static final Logger log = LoggerFactory.getLogger(PoolEvents.class);

    private final KubernetesClient client;
    private final String component;
    private final String instance;

    public PoolEvents(KubernetesClient client, String component, String instance) {
        this.client = client;
        this.component = component;
        this.instance = instance;
    }

    public void normal(DiskPool dp, String reason, String message) {
        emit(dp, "Normal", reason, message);
    }

    public void warning(DiskPool dp, String reason, String message) {
        emit(dp, "Warning", reason, message);
    }

    private void emit(DiskPool dp, String type, String reason, String message) {
        String now = Instant.now().toString();
        try {
            client.v1().events().inNamespace(dp.getMetadata().getNamespace()).resource(new EventBuilder()
                    .withNewMetadata().withName(dp.getMetadata().getName() + "." + UUID.randomUUID().toString().substring(0, 8))
                    .withNamespace(dp.getMetadata().getNamespace()).endMetadata()
                    .withNewInvolvedObject().withApiVersion(dp.getApiVersion()).withKind(dp.getKind())
                    .withName(dp.getMetadata().getName()).withNamespace(dp.getMetadata().getNamespace())
                    .withUid(dp.getMetadata().getUid()).endInvolvedObject()
                    .withType(type).withReason(reason).withMessage(message)
                    .withFirstTimestamp(now).withLastTimestamp(now).withEventTime(new MicroTime(now)).withCount(1)
                    .withReportingComponent(component).withReportingInstance(instance)
                    .withNewSource().withComponent(component).endSource()
                    .build()).create();
        } catch (KubernetesClientException e) {
            log.warn("event not recorded diskpool={}/{} reason={} error={}", dp.getMetadata().getNamespace(),
                    dp.getMetadata().getName(), reason, e.getMessage());
        }
    }
}
