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
    }
}
