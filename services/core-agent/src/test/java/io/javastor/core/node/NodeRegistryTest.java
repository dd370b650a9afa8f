package io.javastor.core.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** The registry's change count, which the agent keys its kept volume listing on. */
class NodeRegistryTest {

    @Test
    void noSettledCountWhileAChangeIsUnderWayAndANewOneAfterEach() {
        NodeRegistry registry = new NodeRegistry();
        long before = registry.settledChanges().orElseThrow();
        registry.know("node-1", "127.0.0.1:1");
        long known = registry.settledChanges().orElseThrow();
        assertThat(known).isGreaterThan(before);

        AtomicReference<OptionalLong> during = new AtomicReference<>();
        registry.update("node-1", s -> {
            during.set(registry.settledChanges()); // other readers may see the new state from here on
            return s.withStatus(new NodeStatus.Offline(java.time.Instant.EPOCH, "test"));
        });
        assertThat(during.get()).as("under way").isEmpty();
        long updated = registry.settledChanges().orElseThrow();
        assertThat(updated).isGreaterThan(known);

        registry.forget("node-1");
        assertThat(registry.settledChanges().orElseThrow()).isGreaterThan(updated);
        long forgotten = registry.settledChanges().orElseThrow();
        registry.clear();
        assertThat(registry.settledChanges().orElseThrow()).isGreaterThan(forgotten);
    }
}
