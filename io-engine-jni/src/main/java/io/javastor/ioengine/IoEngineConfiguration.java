package io.javastor.ioengine;

import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.uring.NativeIo;
import io.javastor.ioengine.pool.PoolRegistry;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class IoEngineConfiguration {

    /** Loads the native engine first: without it the io-engine refuses to start, saying why. */
    @Bean(destroyMethod = "close")
    BlockDeviceFactory blockDeviceFactory(IoEngineProperties props) {
        NativeIo.load();
        IoEngineProperties.Uring u = props.uring();
        return new BlockDeviceFactory(u.ringEntries(), u.spinMicros(), u.sqpollIdleMs());
    }

    @Bean(destroyMethod = "close")
    PoolRegistry poolRegistry(BlockDeviceFactory devices, IoEngineProperties props) {
        return new PoolRegistry(devices, props.thinOvercommitRatio());
    }
}
