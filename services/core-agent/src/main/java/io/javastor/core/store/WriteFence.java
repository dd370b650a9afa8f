package io.javastor.core.store;

import java.util.Optional;
import java.util.OptionalLong;

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

    /**
     * The store revision from which on no spec write but this agent's own can have succeeded in etcd, if that holds at
     * this instant: a leader whose lease cannot have expired yet, since every other writer's fence fails while its
     * leader key lives. Reads may then trust the agent's copy once it holds that revision and the agent's own writes,
     * without asking etcd. Empty when it cannot say (no fence, not leading, the lease not renewed recently enough).
     */
    default OptionalLong soleWriterSince() {
        return OptionalLong.empty();
    }
}
