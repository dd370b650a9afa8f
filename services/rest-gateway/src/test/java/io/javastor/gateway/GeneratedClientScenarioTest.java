package io.javastor.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.gateway.client.ApiClient;
import io.javastor.gateway.client.ApiException;
import io.javastor.gateway.client.api.VolumesApi;
import io.javastor.gateway.client.model.CreateVolumeBody;
import io.javastor.gateway.client.model.PublishVolumeBody;
import io.javastor.gateway.client.model.ResizeVolumeBody;
import io.javastor.gateway.client.model.Volume;
import io.javastor.gateway.client.model.VolumePolicy;
import io.javastor.gateway.client.model.VolumeSpec;
import io.javastor.gateway.testsupport.StorageCluster;

/**
 * A client generated from the OpenAPI document (openapi-generator, Java "native") drives a volume's
 * life: create, publish, scale, unpublish, grow, delete, against the gateway, a core agent and three io-engines.
 */
class GeneratedClientScenarioTest {

    @RegisterExtension
    static final StorageCluster cluster = new StorageCluster();

    private static final long MIB = 1 << 20;

    @Test
    void createPublishScaleUnpublishDelete() throws Exception {
        ApiClient client = new ApiClient();
        client.updateBaseUri(cluster.gateway().baseUrl());
        // HTTPS: the gateway's certificate comes from the tests' cluster CA, which the generated client must trust.
        client.setHttpClientBuilder(java.net.http.HttpClient.newBuilder()
                .sslContext(io.javastor.testsupport.ClusterCertificates.shared().httpsClient()));
        String authorization = cluster.gateway().adminAuthorization();
        client.setRequestInterceptor(request -> request.header("Authorization", authorization));
        VolumesApi volumes = new VolumesApi(client);
        String uuid = UUID.randomUUID().toString();

        Volume created = volumes.putVolume(uuid, new CreateVolumeBody().size(8 * MIB).replicas(2).thin(true)
                .policy(new VolumePolicy().selfHeal(true)));
        assertThat(created.getSpec().getUuid()).isEqualTo(uuid);
        assertThat(created.getSpec().getStatus()).isEqualTo(VolumeSpec.StatusEnum.CREATED);
        assertThat(created.getState().getReplicaTopology()).hasSize(2);

        PublishVolumeBody publish = new PublishVolumeBody().protocol(PublishVolumeBody.ProtocolEnum.NVMF)
                .publishContext(Map.of("io_timeout", "30")).node("node-1").frontendNode("node-2");
        boolean published = publishOrNotImplemented(() -> volumes.putVolumeTarget(uuid, publish), v -> {
            assertThat(v.getSpec().getTarget().getNode()).isEqualTo("node-1");
            assertThat(v.getState().getTarget().getDeviceUri()).isNotBlank();
        });

        Volume scaled = volumes.putVolumeReplicaCount(uuid, 3);
        assertThat(scaled.getSpec().getNumReplicas()).isEqualTo(3);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(volumes.getVolume(uuid).getState().getReplicaTopology()).hasSize(3));

        if (published) {
            Volume unpublished = volumes.delVolumeTarget(uuid);
            assertThat(unpublished.getSpec().getTarget()).isNull();
        } else {
            publishOrNotImplemented(() -> volumes.delVolumeTarget(uuid), v -> assertThat(v.getSpec().getTarget()).isNull());
        }

        // The agent grows only unpublished volumes (412 while published).
        Volume grown = volumes.putVolumeSize(uuid, new ResizeVolumeBody().size(16 * MIB));
        assertThat(grown.getSpec().getSize()).isEqualTo(16 * MIB);

        volumes.delVolume(uuid);
        assertThatThrownBy(() -> volumes.getVolume(uuid)).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.getCode()).isEqualTo(404);
            assertThat(e.getResponseBody()).contains("\"kind\":\"NotFound\"");
        });
    }

    interface VolumeCall {
        Volume call() throws ApiException;
    }

    /**
     * The core agent answers UNIMPLEMENTED for publish/unpublish until the nexus lands in the
     * io-engine; the gateway must then say 501 NotImplemented. Returns whether the call worked.
     */
    private static boolean publishOrNotImplemented(VolumeCall call, java.util.function.Consumer<Volume> check) {
        try {
            check.accept(call.call());
            return true;
        } catch (ApiException e) {
            assertThat(e.getCode()).as(e.getResponseBody()).isEqualTo(501);
            assertThat(e.getResponseBody()).contains("\"kind\":\"NotImplemented\"");
            System.out.println("publish/unpublish not served by the core agent yet (501 NotImplemented): " + e.getResponseBody());
            return false;
        }
    }
}
