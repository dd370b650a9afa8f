package io.javastor.core.appnode;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import io.javastor.core.events.EventHistory;
import io.javastor.core.store.SpecStore;

@Configuration(proxyBeanMethods = false)
public class AppNodeConfiguration {

    @Bean
    AppNodes appNodes(SpecStore store, EventHistory events) {
        return new AppNodes(store, events);
    }
}
