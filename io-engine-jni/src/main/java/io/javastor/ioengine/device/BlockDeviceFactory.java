package io.javastor.ioengine.device;

import io.javastor.ioengine.device.malloc.MallocBlockDevice;
import io.javastor.ioengine.device.uring.UringBlockDevice;
import io.javastor.ioengine.device.uring.UringReactor;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Opens disks by URI. Owns the io_uring reactors of this engine's uring devices: a single-issuer one that their I/O
 * goes to, and a shared one for the NVMe-oF target's loops, which submit to it and reap it themselves
 * ({@link UringReactor#useForThisThread}).
 * Malloc devices are kept by name for the life of the factory, so a pool on one survives export/import.
 */
public final class BlockDeviceFactory implements AutoCloseable {
    private final int ringEntries;
    private final long spinMicros;
    private final int sqpollIdleMs;
    private UringReactor reactor;
    private UringReactor loopReactor;
    private final Map<String, MallocBlockDevice> mallocDevices = new ConcurrentHashMap<>();

    public BlockDeviceFactory(int ringEntries, long spinMicros, int sqpollIdleMs) {
        this.ringEntries = ringEntries;
        this.spinMicros = spinMicros;
        this.sqpollIdleMs = sqpollIdleMs;
    }

    public static BlockDeviceFactory withDefaults() {
        return new BlockDeviceFactory(256, 10, 0);
    }

    /** Opens a disk; {@link IllegalArgumentException} names what is wrong with the URI or the file. */
    public BlockDevice open(String uriText) {
        DeviceUri uri = DeviceUri.parse(uriText);
        if (uri instanceof DeviceUri.Uring u) {
            return UringBlockDevice.open(u.text(), u.path(), u.createSizeMb() << 20, reactor());
        }
        DeviceUri.Malloc m = (DeviceUri.Malloc) uri;
        if (!mallocDevices.containsKey(m.name())) {
            checkFitsInMemory(uriText, m.sizeMb() << 20);
        }
        MallocBlockDevice d = mallocDevices.computeIfAbsent(m.name(),
                n -> new MallocBlockDevice(m.text(), m.sizeMb() << 20, m.blockSize()));
        if (d.size() != m.sizeMb() << 20 || d.blockSize() != m.blockSize()) {
            throw new IllegalArgumentException("disk URI '" + uriText + "': malloc device '" + m.name()
                    + "' exists with size " + (d.size() >> 20) + " MiB and block size " + d.blockSize());
        }
        return new NonClosing(d);
    }

    /**
     * A RAM disk is refused up front when it would not leave the engine a reserve of heap (64 MiB, or a tenth of the
     * heap if more): allocating it anyway ends in OutOfMemoryError in whichever threads allocate next, leaving the
     * engine broken (issue 16).
     */
    private static void checkFitsInMemory(String uriText, long bytes) {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        long reserve = Math.max(64L << 20, rt.maxMemory() / 10);
        if (bytes > free - reserve) {
            throw new io.javastor.ioengine.EngineException(io.javastor.ioengine.EngineException.Kind.RESOURCE_EXHAUSTED, "disk '" + uriText
                    + "': a RAM disk of " + (bytes >> 20) + " MiB does not fit this engine's memory (" + (free >> 20)
                    + " MiB of heap free, " + (reserve >> 20) + " MiB of it kept for the engine itself)");
        }
    }

    /** Frees a malloc device's memory (pool destroy). */
    public void releaseMalloc(String uriText) {
        if (DeviceUri.parse(uriText) instanceof DeviceUri.Malloc m) {
            mallocDevices.remove(m.name());
        }
    }

    public synchronized UringReactor reactor() {
        if (reactor == null) {
            reactor = new UringReactor("engine", ringEntries, spinMicros, sqpollIdleMs, true);
        }
        return reactor;
    }

    /** The reactor that NVMe-oF target loops take over ({@link UringReactor#acquirePolling()}) and submit their device I/O to. */
    public synchronized UringReactor loopReactor() {
        if (loopReactor == null) {
            loopReactor = new UringReactor("loops", ringEntries, spinMicros, sqpollIdleMs);
        }
        return loopReactor;
    }

    @Override
    public synchronized void close() {
        if (loopReactor != null) {
            loopReactor.close();
            loopReactor = null;
        }
        if (reactor != null) {
            reactor.close();
            reactor = null;
        }
    }

    /** A handle on a shared malloc device whose close does not free the memory. */
    private static final class NonClosing extends ForwardingBlockDevice {
        NonClosing(BlockDevice d) {
            super(d);
        }

        @Override
        public void close() {
        }
    }
}
