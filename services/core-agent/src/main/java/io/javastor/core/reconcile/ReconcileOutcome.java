package io.javastor.core.reconcile;

/** What a reconcile pass left behind. */
public sealed interface ReconcileOutcome {

    /** Nothing to do: observed state matches the specs as far as this reconciler can tell. */
    record Idle() implements ReconcileOutcome {}

    /** Work remains (a resource was busy, a node unreachable, a step done but not the last). */
    record Busy(String why) implements ReconcileOutcome {}

    ReconcileOutcome IDLE = new Idle();

    static ReconcileOutcome busyIf(boolean busy, String why) {
        return busy ? new Busy(why) : IDLE;
    }
}
