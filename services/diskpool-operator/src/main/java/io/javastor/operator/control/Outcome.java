package io.javastor.operator.control;

import java.time.Duration;

/** What one reconcile of one resource leaves to do. */
public sealed interface Outcome {

    /** Nothing until the resource changes (its generation, or it is being deleted). */
    record Done() implements Outcome {
    }

    /** A step was taken; reconcile again at once for the next one. */
    record Next() implements Outcome {
    }

    /** In the wanted state; look again after {@code after} to refresh what is observed (capacity, used, state). */
    record RefreshAfter(Duration after) implements Outcome {
    }

    /** The step failed; try again after {@code after} (the back-off for this attempt). */
    record Retry(Duration after) implements Outcome {
    }

    Outcome DONE = new Done();
    Outcome NEXT = new Next();
}
