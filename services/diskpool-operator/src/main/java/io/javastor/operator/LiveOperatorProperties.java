package io.javastor.operator;

import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.cloud.context.environment.EnvironmentChangeEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.core.env.Environment;

/**
 * {@code javastor.operator.*} as it is now. {@link OperatorProperties} is immutable (Spring Cloud's rebinder cannot
 * refresh a record), so when the environment changes (in Kubernetes: Spring Cloud Kubernetes reloading the
 * ConfigMap) the properties are bound again here. Only {@code refresh} is read live (at each pool's next refresh);
 * the others are fixed when the controller starts, and a change to them is logged as needing a restart.
 */
final class LiveOperatorProperties implements Supplier<OperatorProperties>, ApplicationListener<EnvironmentChangeEvent> {
    private static final Logger log = LoggerFactory.getLogger(LiveOperatorProperties.class);
    static final String PREFIX = "javastor.operator";
    private static final Set<String> LIVE = Set.of(PREFIX + ".refresh");

    private final Environment environment;
    private volatile OperatorProperties current;

    LiveOperatorProperties(Environment environment, OperatorProperties initial) {
        this.environment = environment;
        this.current = initial;
    }

    @Override
    public OperatorProperties get() {
        return current;
    }

    @Override
    public void onApplicationEvent(EnvironmentChangeEvent event) {
        Set<String> changed = new TreeSet<>();
        for (String key : event.getKeys()) {
            if (key.startsWith(PREFIX + ".")) {
                changed.add(key);
            }
        }
        if (changed.isEmpty()) {
            return;
        }
        current = Binder.get(environment).bindOrCreate(PREFIX, Bindable.of(OperatorProperties.class));
        for (String key : changed) {
            if (LIVE.contains(key)) {
                log.info("setting reloaded {}={}", key, environment.getProperty(key));
            } else {
                log.warn("setting changed {}={}: takes effect when the operator restarts", key, environment.getProperty(key));
            }
        }
    }
}
