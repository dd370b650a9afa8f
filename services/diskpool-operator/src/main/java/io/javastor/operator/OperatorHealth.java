package io.javastor.operator;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * UP on every replica (a standby is healthy, it only waits for the Lease); the details say who leads.
 * The leader is DOWN while its DiskPool watch is broken, so a stuck leader gets restarted.
 */
final class OperatorHealth implements HealthIndicator {
    private final OperatorRunner runner;

    OperatorHealth(OperatorRunner runner) {
        this.runner = runner;
    }

    @Override
    public Health health() {
        Health.Builder b = runner.active() && !runner.watching() ? Health.down() : Health.up();
        return b.withDetail("role", runner.active() ? "leader" : "standby")
                .withDetail("identity", runner.identity())
                .withDetail("leader", String.valueOf(runner.leader()))
                .withDetail("namespace", runner.namespace())
                .build();
    }
}
