package io.javastor.operator.rest;

import java.util.List;

/**
 * A pool as the REST API answers it: its spec (node, disks, operation status) and, once the io-engine
 * reported it, its state (Online/Degraded/Faulted/Unknown, bytes).
 */
public record RestPool(String id, String node, List<String> disks, String specStatus, State state) {

    public record State(String status, long capacity, long used, long committed) {
    }
}
