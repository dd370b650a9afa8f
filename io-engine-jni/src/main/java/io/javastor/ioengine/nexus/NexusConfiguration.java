package io.javastor.ioengine.nexus;

import io.javastor.ioengine.IoEngineProperties;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.pool.PoolRegistry;
import io.javastor.ioengine.reservation.ReservationRegistry;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

@Configuration(proxyBeanMethods = false)
class NexusConfiguration {

    /** Nexuses are shut down before the NVMe-oF target and the pools they use (Spring destroys dependents first). */
    @Bean(destroyMethod = "close")
    NexusRegistry nexusRegistry(PoolRegistry pools, NvmfTarget target, IoEngineProperties props, Environment env,
                                ChildHealthLedger ledger, ReservationRegistry reservations) {
        String host = props.nvmf().targetAddress(env);
        NexusOptions defaults = NexusOptions.defaults();
        NexusOptions options = defaults.withIoTimeout(env.getProperty("javastor.io-engine.nexus.io-timeout", java.time.Duration.class,
                defaults.ioTimeout()));
        // Header and data digests (CRC32C) on the links to remote children: TCP's own checksum misses too much for a
        // replica's data. Costs 2-8 % of a link's IOPS on the loopback bench (docs/benchmarks.md); off only by choice.
        boolean digests = env.getProperty("javastor.io-engine.nexus.child-digests", Boolean.class, true);
        return new NexusRegistry(new EngineChildDevices(pools, reservations, props.nodeNqn(), options.ioTimeout(), digests), target, host,
                options, ledger);
    }
}
