package io.javastor.gateway.coreclient;

import java.util.function.Predicate;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * What the circuit breaker counts as a failure: the agent could not be reached or did not answer
 * in time. Answers such as NOT_FOUND or INVALID_ARGUMENT are the agent working, so they do not count.
 */
public class AgentOutage implements Predicate<Throwable> {
    @Override
    public boolean test(Throwable t) {
        if (t instanceof StatusRuntimeException e) {
            Status.Code code = e.getStatus().getCode();
            return code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
        }
        return false;
    }
}
