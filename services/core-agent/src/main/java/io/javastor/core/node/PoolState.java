package io.javastor.core.node;

import java.util.List;

/** A pool as its io-engine last reported it. */
public record PoolState(String id, String nodeId, List<String> disks, Health health, long capacity, long used,
                        long committed) {

    public enum Health { ONLINE, DEGRADED, FAULTED, UNKNOWN }

    public long free() {
        return Math.max(0, capacity - used);
    }
}
