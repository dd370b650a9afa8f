package io.javastor.ioengine.nvmf.tgt;

import java.time.Duration;

/**
 * What one host may hold of a target's resources, so that no host can starve the engine or the other hosts.
 *
 * @param dataBytesPerController  memory held for writes waiting for their data (R2T buffers), per controller (all its queues)
 * @param dataBytesPerTarget      the same, for the whole target (every host)
 * @param dataTimeout             how long a write may wait for the data it asked for; then it fails and its buffer is freed
 * @param controllersPerSubsystem controllers one subsystem may have at once (each host has one per path)
 */
public record TargetLimits(long dataBytesPerController, long dataBytesPerTarget, Duration dataTimeout, int controllersPerSubsystem) {
    public TargetLimits {
        if (dataBytesPerController < 4096 || dataBytesPerTarget < dataBytesPerController || dataTimeout.isNegative()
                || dataTimeout.isZero() || controllersPerSubsystem < 1) {
            throw new IllegalArgumentException("bad NVMe-oF target limits " + dataBytesPerController + " per controller, "
                    + dataBytesPerTarget + " per target, data timeout " + dataTimeout + ", " + controllersPerSubsystem
                    + " controllers per subsystem");
        }
    }

    /** 32 MiB per controller (32 writes of 1 MiB in flight), 128 MiB per target, 30 s, 64 controllers. */
    public static TargetLimits defaults() {
        return new TargetLimits(32L << 20, 128L << 20, Duration.ofSeconds(30), 64);
    }
}
