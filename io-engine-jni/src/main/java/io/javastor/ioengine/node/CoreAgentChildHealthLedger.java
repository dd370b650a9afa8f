package io.javastor.ioengine.node;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.ChildHealthReport;
import io.javastor.api.core.v1.RegistrationGrpc;
import io.javastor.ioengine.IoEngineProperties;
import io.javastor.ioengine.nexus.ChildHealthLedger;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Child faults and rebuilds go to the core agent, one at a time and in order (a fault is never overtaken by an
 * older rebuilt report). A report is retried, moving between agents, until one records it: the nexus holds the
 * acknowledgement of writes the faulted child missed until then, so an unreachable agent stalls those writes
 * rather than letting a stale replica look in sync. A refusal that no retry can change (NOT_FOUND, INVALID_ARGUMENT, ...)
 * fails the report: the writes waiting on it fail too. Standalone (no agent configured) nothing is recorded.
 */
@Component
public class CoreAgentChildHealthLedger implements ChildHealthLedger {
    private static final Logger LOG = LoggerFactory.getLogger(CoreAgentChildHealthLedger.class);
    private static final long FIRST_BACKOFF_MS = 100;
    private static final long MAX_BACKOFF_MS = 2000;
    /** Codes that a later attempt (or another agent) may answer differently. */
    private static final Set<Status.Code> RETRIED = Set.of(Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED,
            Status.Code.RESOURCE_EXHAUSTED, Status.Code.ABORTED, Status.Code.INTERNAL, Status.Code.UNKNOWN);

    private record Report(boolean faulted, UUID nexus, String childUri, String reason, CompletableFuture<Void> done) {
    }

    private final CoreAgentChannels agents;
    private final String nodeId;
    private final LinkedBlockingDeque<Report> queue = new LinkedBlockingDeque<>();
    private final Thread sender;
    /** The report being sent now, so {@link #nexusGone} can stop its retries. */
    private final AtomicReference<Report> current = new AtomicReference<>();

    public CoreAgentChildHealthLedger(CoreAgentChannels agents, IoEngineProperties props) {
        this.agents = agents;
        this.nodeId = props.nodeName();
        this.sender = new Thread(this::sendLoop, "child-health-ledger");
        sender.setDaemon(true);
        if (agents.configured()) {
            sender.start();
        }
    }

    @Override
    public CompletableFuture<Void> childFaulted(UUID nexus, String childUri, String reason) {
        if (!agents.configured()) {
            return CompletableFuture.completedFuture(null);
        }
        Report r = new Report(true, nexus, childUri, reason, new CompletableFuture<>());
        queue.add(r);
        return r.done();
    }

    @Override
    public void childRebuilt(UUID nexus, String childUri) {
        if (agents.configured()) {
            queue.add(new Report(false, nexus, childUri, "rebuild completed", new CompletableFuture<>()));
        }
    }

    @Override
    public void nexusGone(UUID nexus) {
        for (Report r : queue) {
            if (r.nexus().equals(nexus) && queue.remove(r)) {
                r.done().completeExceptionally(new CancellationException("nexus " + nexus + " shut down before the report was recorded"));
            }
        }
        // The report being sent, if it is this nexus's, sees its future failed and stops retrying.
        current.getAndUpdate(r -> {
            if (r != null && r.nexus().equals(nexus)) {
                r.done().completeExceptionally(new CancellationException("nexus " + nexus + " shut down before the report was recorded"));
            }
            return r;
        });
    }

    private void sendLoop() {
        while (!Thread.currentThread().isInterrupted()) {
            Report r;
            try {
                r = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            current.set(r);
            try {
                send(r);
            } catch (InterruptedException e) {
                r.done().completeExceptionally(new CancellationException("io-engine shutting down"));
                return;
            } finally {
                current.set(null);
            }
        }
    }

    private void send(Report r) throws InterruptedException {
        ChildHealthReport msg = ChildHealthReport.newBuilder().setNodeId(nodeId).setNexusUuid(r.nexus().toString())
                .setChildUri(r.childUri()).setReason(r.reason()).build();
        long backoff = FIRST_BACKOFF_MS;
        int attempts = 0;
        while (!r.done().isDone()) {
            ManagedChannel channel = agents.channel();
            try {
                var stub = RegistrationGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
                if (r.faulted()) {
                    stub.reportChildFaulted(msg);
                } else {
                    stub.reportChildRebuilt(msg);
                }
                if (attempts > 0) {
                    LOG.info("nexus={} child={}: {} recorded by core agent {} after {} retries", r.nexus(), r.childUri(),
                            r.faulted() ? "fault" : "rebuild", agents.endpoint(), attempts);
                }
                r.done().complete(null);
                return;
            } catch (StatusRuntimeException e) {
                if (!RETRIED.contains(e.getStatus().getCode())) {
                    // The agent refused it for good (unknown nexus or child, a bad report): retrying cannot help, and
                    // the report is not on record, so the writes waiting on it must fail rather than be acknowledged.
                    LOG.error("nexus={} child={}: core agent refused the {} report: {}", r.nexus(), r.childUri(),
                            r.faulted() ? "fault" : "rebuild", e.getStatus());
                    String why = "nexus " + r.nexus() + " child " + r.childUri() + ": the core agent refused the "
                            + (r.faulted() ? "fault" : "rebuild") + " report: " + e.getStatus();
                    // FAILED_PRECONDITION: the volume's target is on another node now; this nexus is an old one.
                    r.done().completeExceptionally(e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION
                            ? new io.javastor.ioengine.nexus.TargetSuperseded(why) : new IllegalStateException(why));
                    return;
                }
                if (e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
                    agents.next(channel);
                }
                if (attempts++ % 20 == 0) {
                    LOG.warn("nexus={} child={}: {} not yet recorded ({}); writes it missed wait, retrying", r.nexus(), r.childUri(),
                            r.faulted() ? "fault" : "rebuild", e.getStatus());
                }
            }
            try {
                r.done().get(backoff, TimeUnit.MILLISECONDS); // wakes early when the nexus goes away
            } catch (TimeoutException | ExecutionException | CancellationException retry) {
                backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
            }
        }
    }

    @PreDestroy
    public void close() {
        sender.interrupt();
    }
}
