package io.javastor.core.reconcile;

/**
 * One controller: observe, compare with the specs, take one idempotent step per resource, and say
 * whether anything is left ({@link ReconcileOutcome.Busy} makes the poller come back soon).
 */
public interface Reconciler {
    String name();

    ReconcileOutcome reconcile();
}
