package io.javastor.core.node;

import java.time.Instant;

/** Liveness of a node as this agent sees it; Unknown until its first heartbeat reaches this agent. */
public sealed interface NodeStatus {

    /** @param instance the io-engine process's instance id from its registration ("" when it gave none) */
    record Online(Instant lastHeartbeat, String instance) implements NodeStatus {}

    record Offline(Instant lastHeartbeat, String reason) implements NodeStatus {}

    record Unknown() implements NodeStatus {}

    default boolean isOnline() {
        return this instanceof Online;
    }
}
