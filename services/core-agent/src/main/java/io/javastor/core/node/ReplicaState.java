package io.javastor.core.node;

/** A replica as its io-engine last reported it. */
public record ReplicaState(String uuid, String poolId, String nodeId, long size, boolean thin, String uri, long allocated) {}
