package io.javastor.ioengine;

import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.uring.NativeIo;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.nvmf.tgt.NvmfTargetOptions;
import io.javastor.ioengine.pool.PoolRegistry;
import io.javastor.ioengine.replica.ReplicaShares;
import io.javastor.ioengine.reservation.ReservationRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.env.Environment;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.nio.file.Path;

@Configuration(proxyBeanMethods = false)
class IoEngineConfiguration {
    private static final Logger LOG = LoggerFactory.getLogger(IoEngineConfiguration.class);


    /** Loads the native engine first: without it the io-engine refuses to start, saying why. */
    @Bean(destroyMethod = "close")
    BlockDeviceFactory blockDeviceFactory(IoEngineProperties props) {
        NativeIo.load();
        IoEngineProperties.Uring u = props.uring();
        return new BlockDeviceFactory(u.ringEntries(), u.spinMicros(), u.sqpollIdleMs());
    }

    /** The node's NVMe-oF/TCP listener, on the same bind address as the gRPC API. Closed before the pools. */
    @Bean(destroyMethod = "close")
    @org.springframework.context.annotation.DependsOn("poolRegistry") // closed before the pools
    NvmfTarget nvmfTarget(IoEngineProperties props, Environment env, BlockDeviceFactory devices) {
        String bind = env.getProperty("spring.grpc.server.host", "127.0.0.1");
        if (bind.equals("*")) {
            bind = "0.0.0.0";
        }
        String advertised = props.nvmf().advertisedAddress().isBlank() ? null : props.nvmf().advertisedAddress();
        // The socket threads reap the io_uring completions of the I/O they started: no hop to the poller thread.
        NvmfTarget target = new NvmfTarget(NvmfTargetOptions.defaults().withAdvertisedAddress(advertised)
                .withPollReactor(devices.loopReactor()).withLimits(props.nvmf().limits().toLimits()));
        target.start(bind, props.nvmf().port());
        return target;
    }

    @Bean
    ReservationRegistry reservationRegistry(IoEngineProperties props, PoolRegistry pools) {
        ReservationRegistry reservations;
        if (props.stateDir().isBlank()) {
            LOG.warn("javastor.io-engine.state-dir is not set: replica reservations live in memory only and a restart forgets them");
            reservations = ReservationRegistry.inMemory();
        } else {
            reservations = ReservationRegistry.inDirectory(Path.of(props.stateDir(), "reservations"));
        }
        pools.onReplicaDestroyed(reservations::forget);
        return reservations;
    }

    @Bean
    ReplicaShares replicaShares(NvmfTarget target, IoEngineProperties props, Environment env, ReservationRegistry reservations) {
        return new ReplicaShares(target, props.nvmf().shareAddress(env), reservations);
    }

    @Bean(destroyMethod = "close")
    PoolRegistry poolRegistry(BlockDeviceFactory devices, IoEngineProperties props) {
        return new PoolRegistry(devices, props.thinOvercommitRatio(), props.diskPolicy().toPolicy());
    }
}
