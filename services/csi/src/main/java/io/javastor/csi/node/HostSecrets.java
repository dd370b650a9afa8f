package io.javastor.csi.node;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.GetHostSecretsRequest;
import io.javastor.api.core.v1.VolumeServiceGrpc;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Where the node plugin gets the DH-HMAC-CHAP secrets it connects to a volume's target with (NVMe in-band
 * authentication): the core agent, over the node plugin's mTLS channel, which gives them only for a host the volume
 * is published to. Never logged.
 */
public interface HostSecrets {
    /** The host's and the controller's secret (DHHC-1 representation). */
    record Pair(String host, String controller) {
        @Override
        public String toString() {
            return "HostSecrets.Pair[hidden]";
        }
    }

    /** The pair for {@code hostNqn} on {@code volumeId}, empty when the target does not authenticate its hosts. */
    Optional<Pair> of(String volumeId, String hostNqn);

    /** No core agent configured: targets are reached without in-band authentication. */
    static HostSecrets none() {
        return (volume, host) -> Optional.empty();
    }

    /** From the core agent; its refusals and outages become the call's errors (UNAVAILABLE is retried by the CO). */
    static HostSecrets fromAgent(VolumeServiceGrpc.VolumeServiceBlockingStub agent, Duration timeout) {
        return (volume, host) -> {
            io.javastor.api.core.v1.HostSecrets s;
            try {
                s = agent.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                        .getHostSecrets(GetHostSecretsRequest.newBuilder().setUuid(volume).setHostNqn(host).build());
            } catch (StatusRuntimeException e) {
                throw Status.fromCode(e.getStatus().getCode() == Status.Code.PERMISSION_DENIED ? Status.Code.FAILED_PRECONDITION : Status.Code.UNAVAILABLE)
                        .withDescription("the core agent gave no NVMe authentication secrets for volume " + volume + ": "
                                + e.getStatus().getDescription()).asRuntimeException();
            }
            return s.getHostSecret().isEmpty() ? Optional.empty() : Optional.of(new Pair(s.getHostSecret(), s.getControllerSecret()));
        };
    }
}
