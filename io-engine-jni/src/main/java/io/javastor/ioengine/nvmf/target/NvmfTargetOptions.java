package io.javastor.ioengine.nvmf.target;

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
 */
public record NvmfTargetOptions(int eventLoopThreads, int queueEntries, int maxIoQueues, int inCapsuleDataSize,
                                int maxH2cData, int maxTransferSize, String advertisedAddress) {
    public static final int DEFAULT_PORT = 8420;

    public NvmfTargetOptions {
        if (queueEntries < 2 || queueEntries > 65536 || maxIoQueues < 1 || maxIoQueues > 65534
                || inCapsuleDataSize < 0 || inCapsuleDataSize % 16 != 0 || maxH2cData < 4096
                || maxTransferSize < 4096 || Integer.bitCount(maxTransferSize) != 1 || eventLoopThreads < 1) {
            throw new IllegalArgumentException("bad NVMe-oF target options " + this);
        }
    }

    public static NvmfTargetOptions defaults() {
        return new NvmfTargetOptions(Math.min(4, Runtime.getRuntime().availableProcessors()), 128, 16, 8192,
                128 * 1024, 1 << 20, null);
    }

    public NvmfTargetOptions withAdvertisedAddress(String address) {
        return new NvmfTargetOptions(eventLoopThreads, queueEntries, maxIoQueues, inCapsuleDataSize, maxH2cData, maxTransferSize, address);
    }

    public NvmfTargetOptions withMaxH2cData(int bytes) {
        return new NvmfTargetOptions(eventLoopThreads, queueEntries, maxIoQueues, inCapsuleDataSize, bytes, maxTransferSize, advertisedAddress);
    }

    public NvmfTargetOptions withEventLoopThreads(int n) {
        return new NvmfTargetOptions(n, queueEntries, maxIoQueues, inCapsuleDataSize, maxH2cData, maxTransferSize, advertisedAddress);
    }
}
