package io.javastor.csi.node.path;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.ReportFailedPathRequest;
import io.javastor.api.core.v1.ReportFailedPathResponse;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.csi.node.HostSecrets;
import io.javastor.csi.node.NodeService;
import io.javastor.csi.node.NvmeCli;

/**
 * The node's path agent (Mayastor's ha-node-agent): watches the kernel's NVMe controllers of Javastor volumes, and
 * when a volume has had no live path for {@code failAfter}, tells the core agent which path it lost. The agent moves
 * the volume's target if that path was its current one and answers with the address to use; the path agent connects
 * it as another path of the same subsystem (native multipath: the block device and the mount stay), and once that
 * path is live, deletes the dead ones. I/O the application had queued waits on the multipath device meanwhile (the
 * dead path is still "connecting", so the kernel holds it rather than failing it) and resumes on the new path.
 */
public final class PathAgent implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PathAgent.class);
    /** How long a subsystem never seen live may take to connect before it counts as lost (NvmeCli's connect timeout). */
    static final Duration CONNECT_GRACE = Duration.ofSeconds(60);
    private static final Pattern VOLUME_NQN = Pattern.compile("^" + Pattern.quote(NodeService.NQN_PREFIX)
            + "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");

    /** How this node connects paths: its host NQN and the timeouts every path of it gets. */
    public record HostSettings(String hostNqn, String nodeName, int ctrlLossTmoSeconds, int reconnectDelaySeconds) {
    }

    private final NvmeCli nvme;
    private final VolumeServiceGrpc.VolumeServiceBlockingStub agent;
    private final HostSecrets secrets;
    private final HostSettings host;
    private final Duration failAfter;
    private final Duration reportTimeout;
    private final Clock clock;
    private final Map<String, Instant> lastLive = new java.util.concurrent.ConcurrentHashMap<>();
    /** Subsystems never seen live by this agent: when they first showed up. */
    private final Map<String, Instant> firstSeen = new java.util.concurrent.ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "csi-path-agent");
        t.setDaemon(true);
        return t;
    });

    public PathAgent(NvmeCli nvme, VolumeServiceGrpc.VolumeServiceBlockingStub agent, HostSecrets secrets, HostSettings host, Duration failAfter,
                     Duration reportTimeout, Clock clock) {
        this.nvme = nvme;
        this.agent = agent;
        this.secrets = secrets;
        this.host = host;
        this.failAfter = failAfter;
        this.reportTimeout = reportTimeout;
        this.clock = clock;
    }

    public PathAgent start(Duration interval) {
        timer.scheduleWithFixedDelay(() -> {
            try {
                checkAll();
            } catch (RuntimeException e) {
                log.warn("path check failed: {}", e.toString());
            }
        }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** One pass over the node's Javastor subsystems. */
    void checkAll() {
        for (String nqn : lostPaths(clock.instant())) {
            recover(nqn, nvme.controllers(nqn));
        }
    }

    /**
     * The node plugin is about to connect the subsystem (a NodeStage): whatever this agent saw of it before (live until
     * an unstage a moment ago) says nothing about this connect, which gets its {@link #CONNECT_GRACE}. Without this, a
     * re-stage right after an unstage, while the kernel still had the subsystem, counted the new connect's
     * authentication as a path lost since the unstage, and the core agent moved the target away from the host staging
     * it (NodePluginVmTest's raw-block scenario, twice in CI).
     */
    public synchronized void connecting(String nqn) {
        lastLive.remove(nqn);
        firstSeen.put(nqn, clock.instant());
    }

    /**
     * The subsystems whose paths are lost: no live controller for {@code failAfter} since one was last seen live. Not
     * lost: a subsystem with a controller being deleted (an unstage or a dead path's removal in progress), nor one this
     * agent has never seen live before {@link #CONNECT_GRACE} (a connect in progress: with DH-HMAC-CHAP each queue
     * authenticates, which took over a second in the emulated guest, and reporting it moved a target nobody lost).
     */
    synchronized List<String> lostPaths(Instant now) {
        List<String> subsystems = nvme.subsystems(NodeService.NQN_PREFIX).stream().filter(n -> VOLUME_NQN.matcher(n).matches()).toList();
        lastLive.keySet().retainAll(subsystems);
        firstSeen.keySet().retainAll(subsystems);
        List<String> lost = new java.util.ArrayList<>();
        for (String nqn : subsystems) {
            List<String> controllers = nvme.controllers(nqn);
            if (controllers.isEmpty()) {
                // Nothing connected or connecting (a refused connect, an unstage, the kernel's removal of a dead path
                // leave the subsystem empty for a while): nothing to lose. Forgotten, so that the next connect counts as
                // a new one with its grace, not as a path lost since this moment.
                lastLive.remove(nqn);
                firstSeen.remove(nqn);
                continue;
            }
            if (!nvme.liveControllers(nqn).isEmpty()) {
                lastLive.put(nqn, now);
                dropDeadPaths(nqn);
                continue;
            }
            if (controllers.stream().anyMatch(c -> nvme.controllerState(c).startsWith("deleting"))) {
                continue;
            }
            Instant live = lastLive.get(nqn);
            boolean lostNow = live != null
                    ? Duration.between(live, now).compareTo(failAfter) >= 0
                    : Duration.between(firstSeen.computeIfAbsent(nqn, k -> now), now).compareTo(CONNECT_GRACE) >= 0;
            if (lostNow) {
                lost.add(nqn);
            }
        }
        return lost;
    }

    /** No live path: report the one we had, connect the one the core agent names. */
    private void recover(String nqn, List<String> controllers) {
        String volume = nqn.substring(NodeService.NQN_PREFIX.length());
        Optional<NvmeCli.Target> lost = controllers.stream().map(c -> nvme.controllerTarget(c, nqn)).flatMap(Optional::stream).findFirst();
        if (lost.isEmpty()) {
            return;
        }
        ReportFailedPathResponse answer;
        try {
            answer = agent.withDeadlineAfter(reportTimeout.toMillis(), TimeUnit.MILLISECONDS).reportFailedPath(ReportFailedPathRequest.newBuilder()
                    .setUuid(volume).setFailedUri(lost.get().uri()).setHostNode(host.nodeName()).build());
        } catch (StatusRuntimeException e) {
            log.warn("path report failed volumeId={} lostPath={}: {} (retrying)", volume, lost.get().uri(), e.getStatus());
            return;
        }
        NvmeCli.Target next = NvmeCli.Target.parse(answer.getDeviceUri());
        boolean known = controllers.stream().map(c -> nvme.controllerTarget(c, nqn)).flatMap(Optional::stream)
                .anyMatch(t -> t.host().equals(next.host()) && t.port() == next.port());
        log.info("path lost volumeId={} lostPath={} target={} moved={} connecting={}", volume, lost.get().uri(), answer.getDeviceUri(),
                answer.getMoved(), !known);
        if (known) {
            return; // the kernel keeps reconnecting to it
        }
        Optional<HostSecrets.Pair> pair;
        try {
            // The same pair as the first path's: secrets belong to the volume and the host, not to the target's node.
            pair = secrets.of(volume, host.hostNqn());
        } catch (StatusRuntimeException e) {
            log.warn("no secrets for the new path volumeId={} target={}: {} (retrying)", volume, next.uri(), e.getStatus());
            return;
        }
        NvmeCli.Connect c = nvme.addPath(next, host.hostNqn(), host.ctrlLossTmoSeconds(), host.reconnectDelaySeconds(), pair);
        if (c instanceof NvmeCli.Connect.Failed f) {
            log.warn("new path not connected volumeId={} target={}: {} (retrying)", volume, next.uri(), f.why());
        } else {
            lastLive.put(nqn, clock.instant());
            dropDeadPaths(nqn);
        }
    }

    /**
     * With a usable path, the others are old targets' (moved away): retrying ones (they would reconnect to a thawed old
     * target) and live ones whose path the target calls inaccessible (a fenced old target) go.
     *
     * <p>Decided from one reading of each controller's state: a path read as live and usable a moment ago must never
     * be the one removed because it has just dropped to "connecting" (its target killed between two reads). That
     * removed a volume's only path in FailoverVmTest (CI, 2026-12-05): the kernel would have reconnected it, and the
     * host's writes failed instead.
     */
    private void dropDeadPaths(String nqn) {
        for (String c : stalePaths(nqn)) {
            try {
                nvme.disconnectController(c);
                log.info("old path removed nqn={} controller={}", nqn, c);
            } catch (IllegalStateException e) {
                log.warn("old path not removed nqn={} controller={}: {}", nqn, c, e.getMessage());
            }
        }
    }

    /** The paths to remove: none unless another path is usable now; stale ones otherwise (see {@link #dropDeadPaths}). */
    List<String> stalePaths(String nqn) {
        record Seen(String controller, String state, Optional<String> ana) {
            boolean usable() {
                return state.equals("live") && ana.map(a -> !a.equals("inaccessible") && !a.equals("persistent-loss")).orElse(true);
            }

            boolean stale() {
                return state.equals("connecting") || state.equals("dead")
                        || (state.equals("live") && ana.map(a -> a.equals("inaccessible") || a.equals("persistent-loss")).orElse(false));
            }
        }
        List<Seen> seen = nvme.controllers(nqn).stream().map(c -> new Seen(c, nvme.controllerState(c), nvme.anaState(c))).toList();
        if (seen.stream().noneMatch(Seen::usable)) {
            return List.of();
        }
        return seen.stream().filter(Seen::stale).map(Seen::controller).toList();
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
