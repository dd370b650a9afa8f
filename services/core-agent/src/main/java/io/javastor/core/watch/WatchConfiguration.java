package io.javastor.core.watch;

import java.time.Clock;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;

import io.javastor.core.CoreAgentProperties;
import io.javastor.core.leader.LeadershipChanged;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.store.SpecStore;
import io.javastor.core.volume.VolumeViews;

/** Wires the watch parts; the reconcile poller (CoreAgentConfiguration) runs the notifier. */
@Configuration(proxyBeanMethods = false)
public class WatchConfiguration {

    @Bean
    VolumeWatches volumeWatches(SpecStore store, VolumeViews volumes) {
        return new VolumeWatches(store, volumes);
    }

    @Bean(destroyMethod = "close")
    WatchNotifier watchNotifier(VolumeWatches watches, VolumeViews volumes, NodeRegistry registry, WatchProperties props,
                                CoreAgentProperties agent, Clock clock) {
        return new WatchNotifier(watches, volumes, registry, props, agent.nodes().heartbeatTimeout(), clock);
    }

    /** Tells the notifier when this agent takes over (the notifier itself knows nothing of Spring). */
    @Bean
    LeadershipRelay watchNotifierLeadership(WatchNotifier notifier) {
        return new LeadershipRelay(notifier);
    }

    static final class LeadershipRelay {
        private final WatchNotifier notifier;

        LeadershipRelay(WatchNotifier notifier) {
            this.notifier = notifier;
        }

        @EventListener
        void leadershipChanged(LeadershipChanged change) {
            if (change.leading()) {
                notifier.elected();
            }
        }
    }
}
