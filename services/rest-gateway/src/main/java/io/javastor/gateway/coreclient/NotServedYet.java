package io.javastor.gateway.coreclient;

import java.util.function.Predicate;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * What is retried (idempotent calls only): UNAVAILABLE, which the agent answers when no leader
 * serves yet or etcd is unreachable. A DEADLINE_EXCEEDED is not retried: the caller's time is used up.
 */
public class NotServedYet implements Predicate<Throwable> {
    @Override
    public boolean test(Throwable t) {
        return t instanceof StatusRuntimeException e && e.getStatus().getCode() == Status.Code.UNAVAILABLE;
    }
}
