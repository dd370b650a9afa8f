package io.javastor.core.leader;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Part of the readiness group: only the leader is ready, so a Kubernetes Service routes the
 * gateway, CSI and io-engines to the agent that acts.
 */
public final class LeadershipHealth implements HealthIndicator {

    private final LeaderElection election;

    public LeadershipHealth(LeaderElection election) {
        this.election = election;
    }

    @Override
    public Health health() {
        return election.isLeader()
                ? Health.up().withDetail("agent", election.agentId()).build()
                : Health.outOfService().withDetail("agent", election.agentId()).withDetail("reason", "not the leader").build();
    }
}
