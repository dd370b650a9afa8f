package io.javastor.ioengine.process;

import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.pool.CrashStream;
import io.javastor.ioengine.pool.Pool;
import io.javastor.ioengine.pool.PoolRegistry;

import java.io.PrintStream;
import java.util.List;

/**
 * The process the kill -9 test kills: the io-engine's storage stack (io_uring device, pool, replicas)
 * running a {@link CrashStream} on a pool file and printing every event as it happens.
 * Args: diskUri seed ops.
 */
public final class CrashStreamProcess {
    public static void main(String[] args) {
        String disk = args[0];
        long seed = Long.parseLong(args[1]);
        int ops = Integer.parseInt(args[2]);
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true);
        BlockDeviceFactory devices = BlockDeviceFactory.withDefaults();
        PoolRegistry registry = new PoolRegistry(devices, 2.5,
                io.javastor.ioengine.pool.DiskPolicy.below(java.nio.file.Path.of(java.net.URI.create(disk).getPath()).getParent(), 0));
        Pool pool = registry.createPool("crash", List.of(disk), 1L << 20);
        out.println("READY");
        CrashStream.run(pool, seed, ops, new CrashStream.Shape(256 << 10, 6L << 20, 12), out::println);
        out.println("DONE");
        registry.close();
        devices.close();
    }
}
