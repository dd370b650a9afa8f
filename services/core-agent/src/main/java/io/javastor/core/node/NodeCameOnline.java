package io.javastor.core.node;

/** Published when a node's heartbeat makes it Online (first time or again): reconcile soon. */
public record NodeCameOnline(String nodeId) {}
