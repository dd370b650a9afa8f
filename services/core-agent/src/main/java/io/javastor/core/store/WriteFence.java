package io.javastor.core.store;

import java.util.Optional;

import io.etcd.jetcd.op.Cmp;

/**
 * An extra condition every spec write must meet: the leader election supplies "the leader key is
 * still mine", so an agent that lost leadership cannot write even if it does not know yet.
 */
@FunctionalInterface
public interface WriteFence {
    WriteFence NONE = Optional::empty;

    /** The condition, or empty for none; throws {@code CoreException.Unavailable} when writing is not allowed at all. */
    Optional<Cmp> condition();
}
