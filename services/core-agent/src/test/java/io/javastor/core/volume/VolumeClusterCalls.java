package io.javastor.core.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.ioengine.v1.ListReplicasRequest;
import io.javastor.testsupport.IoEngineProcess;

/** What the volume tests ask of a cluster's io-engines and what they expect of the agent's refusals. */
final class VolumeClusterCalls {
    private VolumeClusterCalls() {
    }

    static CreateVolumeRequest volume(String uuid, long size, int replicas, boolean thin) {
        return CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(size).setReplicaCount(replicas).setThin(thin).build();
    }

    static IoEngineProcess node(List<IoEngineProcess> nodes, String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
    }

    /** Whether any io-engine reports the replica (a killed one reports nothing). */
    static boolean existsOnAnyEngine(List<IoEngineProcess> nodes, String replicaUuid) {
        return nodes.stream().filter(n -> n.api() != null).anyMatch(n -> {
            try {
                return !n.api().replicas().listReplicas(ListReplicasRequest.newBuilder().setUuid(replicaUuid).build()).getReplicasList().isEmpty();
            } catch (StatusRuntimeException e) {
                return false; // a killed node holds nothing we can see
            }
        });
    }

    /** The call fails with {@code code} and a description containing {@code messagePart}. */
    static void expect(Status.Code code, String messagePart, Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(messagePart);
        });
    }
}
