package io.javastor.core.node;

import java.util.List;

/** A replica as its io-engine last reported it. */
public record ReplicaState(String uuid, String poolId, String nodeId, long size, boolean thin, String uri, long allocated,
                           List<String> allowedHosts) {

    public ReplicaState {
        allowedHosts = allowedHosts == null ? List.of() : List.copyOf(allowedHosts);
    }
}
