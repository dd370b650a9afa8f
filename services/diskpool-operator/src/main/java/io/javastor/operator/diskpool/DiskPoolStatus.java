package io.javastor.operator.diskpool;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What the operator last observed (the CRD's status schema). {@code state} is one of the CRD's enum:
 * Creating, Created, Online, Degraded, Faulted, Terminating, Error, Unknown.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DiskPoolStatus(String state, Long capacity, Long used, Long available, Long committed, String message,
        Long observedGeneration) {

    public static DiskPoolStatus of(String state, String message, Long generation) {
        return new DiskPoolStatus(state, null, null, null, null, message, generation);
    }

    /** The same numbers with another state and message (a failed step keeps the last known capacity). */
    public DiskPoolStatus with(String newState, String newMessage, Long generation) {
        return new DiskPoolStatus(newState, capacity, used, available, committed, newMessage, generation);
    }
}
