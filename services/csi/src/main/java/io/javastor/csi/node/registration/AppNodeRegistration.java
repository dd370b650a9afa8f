package io.javastor.csi.node.registration;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.AppNodeServiceGrpc;
import io.javastor.api.core.v1.DeregisterAppNodeRequest;
import io.javastor.api.core.v1.RegisterAppNodeRequest;

/**
 * The node plugin registers the node it runs on as an app node with the core agent (as Mayastor's csi-node does
 * through the REST API; ours holds the agent's address and a csi-node certificate, no REST token): the CSI
 * controller publishes volumes only to registered nodes. A failed registration is tried again after 1 s, doubling up
 * to the maximum delay, until it succeeds; then it is made again every refresh interval (a registration removed
 * meanwhile comes back). On stop the node is deregistered.
 */
public final class AppNodeRegistration implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AppNodeRegistration.class);
    /** Whether the node's kernel does native NVMe multipath (ANA), as Mayastor's csi-node labels it. */
    public static final String NVME_ANA_LABEL = "io.javastor/csi-node.nvme-ana";
    private static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

    /** What is registered, and how often. */
    public record Settings(String nodeId, String endpoint, Map<String, String> labels, Duration refreshInterval, Duration maxRetryDelay) {
        public Settings {
            labels = Map.copyOf(labels);
        }
    }

    private final AppNodeServiceGrpc.AppNodeServiceBlockingStub agent;
    private final Settings settings;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "app-node-registration");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong failedAttempts = new AtomicLong();
    private final AtomicLong registrations = new AtomicLong();
    private Duration nextRetry = FIRST_RETRY;

    public AppNodeRegistration(AppNodeServiceGrpc.AppNodeServiceBlockingStub agent, Settings settings) {
        this.agent = agent;
        this.settings = settings;
    }

    /** The labels the node reports: its topology segments and whether the kernel does NVMe multipath. */
    public static Map<String, String> labels(Map<String, String> topology, Path nvmeCoreMultipath) {
        Map<String, String> labels = new LinkedHashMap<>(topology);
        labels.put(NVME_ANA_LABEL, Boolean.toString(multipathOn(nvmeCoreMultipath)));
        return labels;
    }

    private static boolean multipathOn(Path parameter) {
        try {
            return Files.isReadable(parameter) && Files.readString(parameter).strip().equals("Y");
        } catch (java.io.IOException e) {
            log.warn("cannot read {}: {}; registering {}=false", parameter, e.toString(), NVME_ANA_LABEL);
            return false;
        }
    }

    public AppNodeRegistration start() {
        scheduler.execute(this::attempt);
        return this;
    }

    /** Registrations that failed so far (each tried again after the back-off). */
    public long failedAttempts() {
        return failedAttempts.get();
    }

    /** Registrations that succeeded so far. */
    public long registrations() {
        return registrations.get();
    }

    private void attempt() {
        try {
            agent.withDeadlineAfter(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).registerAppNode(RegisterAppNodeRequest.newBuilder()
                    .setId(settings.nodeId()).setEndpoint(settings.endpoint()).putAllLabels(settings.labels()).build());
            if (registrations.getAndIncrement() == 0 || !nextRetry.equals(FIRST_RETRY)) {
                log.info("registered as app node id={} endpoint={} labels={}", settings.nodeId(), settings.endpoint(), settings.labels());
            }
            nextRetry = FIRST_RETRY;
            schedule(settings.refreshInterval());
        } catch (StatusRuntimeException e) {
            long failures = failedAttempts.incrementAndGet();
            // The first failure in a row says what is wrong; the rest would repeat it every few seconds.
            if (nextRetry.equals(FIRST_RETRY)) {
                log.warn("app node registration failed id={} (tried again with back-off up to {}): {}", settings.nodeId(),
                        settings.maxRetryDelay(), e.getStatus());
            } else {
                log.debug("app node registration failed again id={} failures={}: {}", settings.nodeId(), failures, e.getStatus());
            }
            schedule(nextRetry);
            Duration doubled = nextRetry.multipliedBy(2);
            nextRetry = doubled.compareTo(settings.maxRetryDelay()) > 0 ? settings.maxRetryDelay() : doubled;
        }
    }

    private void schedule(Duration delay) {
        if (!scheduler.isShutdown()) {
            scheduler.schedule(this::attempt, delay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Stops registering and deregisters the node (a node plugin that is gone takes no more volumes). */
    @Override
    public void close() throws InterruptedException {
        scheduler.shutdownNow();
        scheduler.awaitTermination(CALL_TIMEOUT.toSeconds() + 1, TimeUnit.SECONDS);
        try {
            agent.withDeadlineAfter(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .deregisterAppNode(DeregisterAppNodeRequest.newBuilder().setId(settings.nodeId()).build());
            log.info("deregistered app node id={}", settings.nodeId());
        } catch (StatusRuntimeException e) {
            // Stopping goes on: the registration stays until the plugin registers again or an operator removes it.
            log.warn("could not deregister app node id={}: {}; DELETE /v0/app-nodes/{} removes it", settings.nodeId(), e.getStatus(),
                    settings.nodeId());
        }
    }
}
