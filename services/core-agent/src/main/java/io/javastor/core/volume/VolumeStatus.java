package io.javastor.core.volume;

/**
 * Derived from the replicas until the nexus exists: Online when every wanted replica is healthy
 * (spec Created, node Online, reported by the node), Degraded with fewer, Faulted with none,
 * Unknown while no node holding one has been heard from.
 */
public enum VolumeStatus {
    ONLINE, DEGRADED, FAULTED, UNKNOWN
}
