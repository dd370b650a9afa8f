package io.javastor.ioengine.nvmf.tgt;

import io.javastor.ioengine.device.uring.UringReactor;

/**
 * Limits and sizes a target advertises.
 *
 * @param eventLoopThreads   socket threads (each connection lives on one)
 * @param queueEntries       entries per queue the host may ask for (CAP.MQES + 1)
 * @param maxIoQueues        I/O queues per controller
 * @param inCapsuleDataSize  bytes of data a command capsule may carry (IOCCSZ - 64 bytes)
 * @param maxH2cData         MAXH2CDATA: largest data part of one H2CData PDU, and of one R2T
 * @param maxTransferSize    MDTS in bytes (a power of two, at least 4096)
 * @param advertisedAddress  address written into discovery log entries; null = the address the host reached
 * @param busyPollMicros     how long a socket thread keeps polling (no sleep) after its last activity; 0: never spins
 * @param pollReactor        the io_uring reactor of the exported devices, or null: while a socket thread spins it reaps
 *                           this reactor's completions itself (no hop from the poller thread, no wake-up)
 * @param limits             what one host may hold of the target's resources
 */
public record NvmfTargetOptions(int eventLoopThreads, int queueEntries, int maxIoQueues, int inCapsuleDataSize,
                                int maxH2cData, int maxTransferSize, String advertisedAddress, long busyPollMicros,
                                UringReactor pollReactor, TargetLimits limits) {
    public static final int DEFAULT_PORT = 8420;
    /** Default spin after the last activity: covers a device round trip, so a busy queue never sleeps. */
    public static final long DEFAULT_BUSY_POLL_MICROS = Long.getLong("javastor.nvmf.busyPollMicros", 100);

    public NvmfTargetOptions {
        if (queueEntries < 2 || queueEntries > 65536 || maxIoQueues < 1 || maxIoQueues > 65534
                || inCapsuleDataSize < 0 || inCapsuleDataSize % 16 != 0 || maxH2cData < 4096
                || maxTransferSize < 4096 || Integer.bitCount(maxTransferSize) != 1 || eventLoopThreads < 1
                || busyPollMicros < 0 || limits == null) {
            throw new IllegalArgumentException("bad NVMe-oF target options " + this);
        }
    }

    /** The options without busy polling and reactor (as before they existed). */
    public NvmfTargetOptions(int eventLoopThreads, int queueEntries, int maxIoQueues, int inCapsuleDataSize,
                             int maxH2cData, int maxTransferSize, String advertisedAddress) {
        this(eventLoopThreads, queueEntries, maxIoQueues, inCapsuleDataSize, maxH2cData, maxTransferSize, advertisedAddress,
                DEFAULT_BUSY_POLL_MICROS, null, TargetLimits.defaults());
    }

    public static NvmfTargetOptions defaults() {
        return new NvmfTargetOptions(Math.min(4, Runtime.getRuntime().availableProcessors()), 128, 16, 8192,
                128 * 1024, 1 << 20, null);
    }

    public NvmfTargetOptions withAdvertisedAddress(String address) {
        return new NvmfTargetOptions(eventLoopThreads, queueEntries, maxIoQueues, inCapsuleDataSize, maxH2cData, maxTransferSize, address,
                busyPollMicros, pollReactor, limits);
    }

    public NvmfTargetOptions withMaxH2cData(int bytes) {
        return new NvmfTargetOptions(eventLoopThreads, queueEntries, maxIoQueues, inCapsuleDataSize, bytes, maxTransferSize, advertisedAddress,
                busyPollMicros, pollReactor, limits);
    }

    public NvmfTargetOptions withEventLoopThreads(int n) {
        return new NvmfTargetOptions(n, queueEntries, maxIoQueues, inCapsuleDataSize, maxH2cData, maxTransferSize, advertisedAddress,
                busyPollMicros, pollReactor, limits);
    }

    /** Busy-poll window of the socket threads after their last activity (0 disables spinning). */
    public NvmfTargetOptions withBusyPoll(long micros) {
        return new NvmfTargetOptions(eventLoopThreads, queueEntries, maxIoQueues, inCapsuleDataSize, maxH2cData, maxTransferSize, advertisedAddress,
                micros, pollReactor, limits);
    }

    /**
     * A shared io_uring reactor for the target's loops ({@code BlockDeviceFactory.loopReactor()}): the device I/O a
     * loop starts goes to it, and a spinning loop reaps its completions and answers on the spot.
     */
    public NvmfTargetOptions withPollReactor(UringReactor reactor) {
        return new NvmfTargetOptions(eventLoopThreads, queueEntries, maxIoQueues, inCapsuleDataSize, maxH2cData, maxTransferSize, advertisedAddress,
                busyPollMicros, reactor, limits);
    }

    public NvmfTargetOptions withLimits(TargetLimits l) {
        return new NvmfTargetOptions(eventLoopThreads, queueEntries, maxIoQueues, inCapsuleDataSize, maxH2cData, maxTransferSize, advertisedAddress,
                busyPollMicros, pollReactor, l);
    }
}
