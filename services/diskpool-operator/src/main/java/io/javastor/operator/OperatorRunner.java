package io.javastor.operator;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javastor.operator.control.Backoff;
import io.javastor.operator.control.LeaseElection;
import io.javastor.operator.diskpool.DiskPoolController;
import io.javastor.operator.diskpool.PoolEvents;
import io.javastor.operator.rest.PoolsApi;

/** Runs the DiskPool controller on the replica that holds the Lease (or always, without election). */
public final class OperatorRunner implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(OperatorRunner.class);

    private final KubernetesClient client;
    private final PoolsApi pools;
    private final OperatorProperties props;
    private final String namespace;
    private final String identity;
    private volatile DiskPoolController controller;
    private volatile LeaseElection election;
    private volatile boolean running;

    OperatorRunner(KubernetesClient client, PoolsApi pools, OperatorProperties props, String namespace, String identity) {
        this.client = client;
        this.pools = pools;
        this.props = props;
        this.namespace = namespace;
        this.identity = identity;
    }

    @Override
    public void start() {
        running = true;
        var le = props.leaderElection();
        if (!le.enabled()) {
            startController();
            return;
        }
        String leaseNamespace = le.namespace().isBlank() ? namespace : le.namespace();
        election = new LeaseElection(client, leaseNamespace, le.leaseName(), identity, le.leaseDuration(), le.renewDeadline(),
                le.retryPeriod(), this::startController, this::stopController);
        election.start();
    }

    private synchronized void startController() {
        if (controller != null) {
            return;
        }
        DiskPoolController c = new DiskPoolController(client, namespace, pools,
                new Backoff(props.retry().initialDelay(), props.retry().maxDelay()), props.refresh(),
                new PoolEvents(client, "javastor-diskpool-operator", identity));
        try {
            c.start();
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
        controller = c;
    }

    private synchronized void stopController() {
        if (controller != null) {
            controller.close();
            controller = null;
        }
    }

    @Override
    public void stop() {
        running = false;
        if (election != null) {
            election.close();
        }
        stopController();
        log.info("diskpool operator stopped identity={}", identity);
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    public String namespace() {
        return namespace;
    }

    public String identity() {
        return identity;
    }

    /** Leading (or no election): the controller runs here. */
    public boolean active() {
        return controller != null;
    }

    public boolean watching() {
        DiskPoolController c = controller;
        return c != null && c.watching();
    }

    public String leader() {
        return election == null ? identity : election.leader();
    }
}
