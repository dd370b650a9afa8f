package io.javastor.operator.control;

/**
 * Reconciles one resource, named by its cache key ({@code namespace/name}): observe, compare with the
 * spec, take one idempotent step. {@code failuresSoFar} counts the failed attempts in a row before this one.
 */
@FunctionalInterface
public interface KeyReconciler {
    Outcome reconcile(String key, int failuresSoFar);
}
