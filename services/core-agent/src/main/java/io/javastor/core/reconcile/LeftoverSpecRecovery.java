package io.javastor.core.reconcile;

import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;
import io.javastor.core.operation.OperationGuard;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.Spec;
import io.javastor.core.store.SpecKind;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * The pass every "left half-done" recovery makes over one spec kind: for each spec left Creating or
 * Deleting, take its operation guard without waiting, re-read it under the guard, hand what is still
 * half-done to the kind's finisher, release. A spec whose guard is taken, whose step fails, or whose
 * finisher says work remains makes the pass busy, so the poller comes back soon.
 */
final class LeftoverSpecRecovery<S extends Spec> {

    /** Finishes or undoes one spec still left half-done, under its guard; false when work remains for a later pass. */
    @FunctionalInterface
    interface Finisher<S extends Spec> {
        boolean finish(Versioned<S> leftover);
    }

    private static final Logger log = LoggerFactory.getLogger(LeftoverSpecRecovery.class);

    private final String what;
    private final SpecStore store;
    private final SpecKind<S> kind;
    private final OperationGuard guard;
    private final Function<S, String> guardKey;
    private final Finisher<S> finisher;

    /**
     * @param what     the kind as logs name it ("volume", "target"): "{what} recovery step failed", "{what}s left ... remain"
     * @param kind     the specs to look through: all of this kind in {@code store}
     * @param guardKey what {@code guard} serializes the spec's operations under (its own id, or its volume's)
     */
    LeftoverSpecRecovery(String what, SpecStore store, SpecKind<S> kind, OperationGuard guard, Function<S, String> guardKey,
                         Finisher<S> finisher) {
        this.what = what;
        this.store = store;
        this.kind = kind;
        this.guard = guard;
        this.guardKey = guardKey;
        this.finisher = finisher;
    }

    ReconcileOutcome reconcile() {
        boolean busy = false;
        for (Versioned<S> listed : store.list(kind)) {
            S spec = listed.spec();
            if (spec.operation() == OperationStatus.CREATED) {
                continue;
            }
            OperationGuard.Held held = guard.tryAcquire(guardKey.apply(spec));
            if (held == null) {
                busy = true; // an operation is running on it, maybe this very create or delete: not left over
                continue;
            }
            try (held) {
                // Re-read under the guard: the operation that just released it may have finished it.
                var fresh = store.get(kind, spec.id());
                if (fresh.isEmpty() || fresh.get().spec().operation() == OperationStatus.CREATED) {
                    continue;
                }
                busy |= !finisher.finish(fresh.get());
            } catch (CoreException e) {
                busy = true;
                log.warn("{} recovery step failed id={}: {}", what, spec.id(), e.getMessage());
            }
        }
        return ReconcileOutcome.busyIf(busy, what + "s left Creating/Deleting remain");
    }
}
