package io.javastor.ioengine.device.uring;

import java.util.ArrayList;
import java.util.List;

/**
 * Gathers this thread's io_uring submissions so they enter the kernel together (one {@code io_uring_enter} per
 * ring) when the outermost batch closes, like the kernel's block plug. A nexus write to three children, or the
 * resubmissions made by one reap's completion callbacks, then cost one system call instead of one each.
 *
 * <p>Keep a batch's scope short and never wait inside it for an I/O submitted inside it: until the batch closes,
 * that I/O has not reached the kernel. Batches nest; only the outermost one flushes.
 */
public final class SubmissionBatch implements AutoCloseable {
    private static final ThreadLocal<SubmissionBatch> CURRENT = ThreadLocal.withInitial(SubmissionBatch::new);

    private int depth;
    /** Reactors with SQEs queued by this thread since the outermost batch opened. */
    private final List<UringReactor> queued = new ArrayList<>(4);

    private SubmissionBatch() {
    }

    /** Opens (or nests in) this thread's batch; close it in a finally block (try-with-resources). */
    public static SubmissionBatch open() {
        SubmissionBatch b = CURRENT.get();
        b.depth++;
        return b;
    }

    /** The open batch of this thread, or null when submissions go to the kernel one by one. */
    static SubmissionBatch current() {
        SubmissionBatch b = CURRENT.get();
        return b.depth > 0 ? b : null;
    }

    void queuedOn(UringReactor reactor) {
        for (int i = 0; i < queued.size(); i++) {
            if (queued.get(i) == reactor) {
                return;
            }
        }
        queued.add(reactor);
    }

    @Override
    public void close() {
        if (--depth > 0) {
            return;
        }
        // Flush even if a reactor's flush throws, so no other ring's SQEs are left behind.
        for (int i = 0; i < queued.size(); i++) {
            queued.get(i).flushQueued();
        }
        queued.clear();
    }
}
