package io.javastor.core;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Serializes operations on one resource: an API call and a reconciler never work on the same
 * volume (or pool, node) at once. One instance per resource kind.
 */
public final class OperationGuard {

    private final String resourceKind;
    private final ConcurrentHashMap<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    public OperationGuard(String resourceKind) {
        this.resourceKind = resourceKind;
    }

    /** Waits up to {@code wait} for the resource, else answers Conflict. */
    public Held acquire(String id, Duration wait) {
        ReentrantLock lock = locks.computeIfAbsent(id, k -> new ReentrantLock());
        try {
            if (!lock.tryLock(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new CoreException.Conflict(resourceKind + " " + id + ": another operation is in progress");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CoreException.Unavailable(resourceKind + " " + id + ": interrupted while waiting for another operation");
        }
        return new Held(lock);
    }

    /** For reconcilers: the resource if free now, else null (the reconciler reports busy and comes back). */
    public Held tryAcquire(String id) {
        ReentrantLock lock = locks.computeIfAbsent(id, k -> new ReentrantLock());
        return lock.tryLock() ? new Held(lock) : null;
    }

    public static final class Held implements AutoCloseable {
        private final ReentrantLock lock;

        private Held(ReentrantLock lock) {
            this.lock = lock;
        }

        @Override
        public void close() {
            lock.unlock();
        }
    }
}
