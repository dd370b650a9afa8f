package io.javastor.ioengine.nvmf.tgt;

import io.javastor.ioengine.nvmf.pdu.NvmeStatus;

import java.util.ArrayDeque;

/**
 * A controller's Asynchronous Event Requests (base 2.0, 5.2): the host leaves a few outstanding on the admin queue
 * and the controller completes one when an event happens; an event that finds none outstanding waits for the host's
 * next request. Confined to the admin queue's event loop; {@link #notify(int)} hops there from any thread.
 */
final class AsyncEventRequests {
    /** The AERL we report in Identify Controller (0's based 3): four outstanding requests. */
    static final int LIMIT = 4;
    /** Events kept while no request is outstanding; more are dropped (the host rereads the log pages anyway). */
    private static final int PENDING_LIMIT = 16;

    private final TransportQueue adminQueue;
    private final ArrayDeque<Integer> outstanding = new ArrayDeque<>();
    private final ArrayDeque<Integer> pending = new ArrayDeque<>();

    AsyncEventRequests(TransportQueue adminQueue) {
        this.adminQueue = adminQueue;
    }

    /** The host's request {@code cid}: answered at once with a waiting event, else kept until one happens. Loop only. */
    void request(int cid) {
        if (outstanding.size() >= LIMIT) {
            adminQueue.respond(cid, NvmeStatus.ASYNC_EVENT_LIMIT_EXCEEDED);
        } else if (!pending.isEmpty()) {
            adminQueue.respond(cid, NvmeStatus.SUCCESS, pending.poll(), 0);
        } else {
            outstanding.add(cid);
        }
    }

    /**
     * The host sent another command with the id of outstanding request {@code cid}: it gave that request up without
     * telling us (SPDK's host completes its outstanding requests itself at detach, then reuses their ids for the
     * shutdown). The request is dropped without a completion (one would now name the host's new command); false when
     * {@code cid} is no outstanding request. Loop only.
     */
    boolean retire(int cid) {
        return outstanding.remove(cid);
    }

    /** Abort of outstanding request {@code cid} (as SPDK's target allows): it completes with Abort Requested. Loop only. */
    boolean abort(int cid) {
        if (!outstanding.remove(cid)) {
            return false;
        }
        adminQueue.respond(cid, NvmeStatus.ABORT_REQUESTED);
        return true;
    }

    /** An event whose completion DW0 is {@code dw0} (any thread). */
    void notify(int dw0) {
        adminQueue.runOnLoop(() -> {
            if (adminQueue.isClosed()) {
                return;
            }
            Integer cid = outstanding.poll();
            if (cid != null) {
                adminQueue.respond(cid, NvmeStatus.SUCCESS, dw0, 0);
            } else if (pending.size() < PENDING_LIMIT) {
                pending.add(dw0);
            }
        }, null);
    }
}
