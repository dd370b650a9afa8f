package io.javastor.core.operation;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Serializes operations on one resource: an API call and a reconciler never work on the same
 * volume (or pool, node) at once. One instance per resource kind. A resource's lock exists only
 * while someone holds or waits for it, so the map does not grow with every volume ever made.
 */
public final class OperationGuard {

    private record Entry(ReentrantLock lock, int users) {}

    private final String resourceKind;
    private final ConcurrentHashMap<String, Entry> locks = new ConcurrentHashMap<>();

    public OperationGuard(String resourceKind) {
        this.resourceKind = resourceKind;
    }

    /** Waits up to {@code wait} for the resource, else answers Conflict. */
    public Held acquire(String id, Duration wait) {
        ReentrantLock lock = join(id);
        boolean locked = false;
        try {
            locked = lock.tryLock(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CoreException.Unavailable(resourceKind + " " + id + ": interrupted while waiting for another operation");
        } finally {
            if (!locked) {
                leave(id);
            }
        }
        if (!locked) {
            throw new CoreException.Conflict(resourceKind + " " + id + ": another operation is in progress");
        }
        return new Held(this, id, lock);
    }

    /** For reconcilers: the resource if free now, else null (the reconciler reports busy and comes back). */
    public Held tryAcquire(String id) {
        ReentrantLock lock = join(id);
        if (lock.tryLock()) {
            return new Held(this, id, lock);
        }
        leave(id);
        return null;
    }

    /** Number of resources currently held or waited for (for tests and metrics). */
    public int active() {
        return locks.size();
    }

    private ReentrantLock join(String id) {
        return locks.compute(id, (k, e) -> e == null ? new Entry(new ReentrantLock(), 1) : new Entry(e.lock(), e.users() + 1)).lock();
    }

    private void leave(String id) {
        locks.computeIfPresent(id, (k, e) -> e.users() == 1 ? null : new Entry(e.lock(), e.users() - 1));
    }

    public static final class Held implements AutoCloseable {
        private final OperationGuard guard;
        private final String id;
        private final ReentrantLock lock;

        private Held(OperationGuard guard, String id, ReentrantLock lock) {
            this.guard = guard;
            this.id = id;
            this.lock = lock;
        }

        @Override
        public void close() {
            lock.unlock();
            guard.leave(id);
        }
    }
}
