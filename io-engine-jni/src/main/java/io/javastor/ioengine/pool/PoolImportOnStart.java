package io.javastor.ioengine.pool;

import io.javastor.ioengine.IoEngineProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.stereotype.Component;

/**
 * Imports the pools found on the configured disks when the engine starts. A disk without a pool is
 * left alone (pools are created through the API); a damaged pool is reported and not imported.
 * Entries of {@code javastor.io-engine.pools} (dev clusters) are created when their disk is empty.
 */
@Component
class PoolImportOnStart implements ApplicationRunner {
    private static final Logger LOG = LoggerFactory.getLogger(PoolImportOnStart.class);

    private final PoolRegistry registry;
    private final IoEngineProperties props;

    PoolImportOnStart(PoolRegistry registry, IoEngineProperties props) {
        this.registry = registry;
        this.props = props;
    }

    @Override
    public void run(ApplicationArguments args) {
        for (String disk : props.disks()) {
            if (disk.isBlank()) {
                continue;
            }
            try {
                registry.importAny(disk).ifPresentOrElse(
                        p -> LOG.info("node={} pool={} disk={} imported at start", props.nodeName(), p.name(), disk),
                        () -> LOG.info("node={} disk={} holds no pool", props.nodeName(), disk));
            } catch (RuntimeException e) {
                LOG.error("node={} disk={} pool not imported: {}", props.nodeName(), disk, e.getMessage());
            }
        }
        for (String entry : props.pools()) {
            if (entry.isBlank()) {
                continue;
            }
            int eq = entry.indexOf('=');
            if (eq <= 0) {
                LOG.error("node={} javastor.io-engine.pools entry '{}' is not name=diskUri", props.nodeName(), entry);
                continue;
            }
            String name = entry.substring(0, eq);
            String disk = entry.substring(eq + 1);
            try {
                Pool p = registry.createPool(name, java.util.List.of(disk), 0);
                LOG.info("node={} pool={} disk={} ready: {} bytes", props.nodeName(), p.name(), disk, p.capacityBytes());
            } catch (RuntimeException e) {
                LOG.error("node={} pool={} disk={} not created: {}", props.nodeName(), name, disk, e.getMessage());
            }
        }
    }
}
