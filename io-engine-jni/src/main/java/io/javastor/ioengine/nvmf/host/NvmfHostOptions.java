package io.javastor.ioengine.nvmf.host;

import java.time.Duration;
import java.util.UUID;

/**
 * How a host connects.
 *
 * @param hostNqn            our host NQN (the target's allowed-host list names these)
 * @param hostId             our host identifier (stable per host)
 * @param ioQueues           I/O queues to ask for (each its own TCP connection)
 * @param queueSize          entries per I/O queue (capped by the controller's MQES + 1)
 * @param headerDigest       ask for header digests (CRC32C)
 * @param dataDigest         ask for data digests (CRC32C)
 * @param keepAliveTimeout   KATO given at Connect; keep-alives go out every half of it; zero disables
 * @param connectTimeout     limit for one connection attempt (TCP, ICReq and the Connect handshake)
 * @param reconnectDeadline  after losing the controller, how long to keep retrying (back-off 100 ms..5 s) before failing for good
 * @param eventLoopThreads   socket threads of this device
 */
public record NvmfHostOptions(String hostNqn, UUID hostId, int ioQueues, int queueSize, boolean headerDigest,
                              boolean dataDigest, Duration keepAliveTimeout, Duration connectTimeout,
                              Duration reconnectDeadline, int eventLoopThreads) {
    public NvmfHostOptions {
        if (hostNqn == null || !hostNqn.startsWith("nqn.") || ioQueues < 1 || ioQueues > 65534 || queueSize < 2
                || queueSize > 65536 || eventLoopThreads < 1) {
            throw new IllegalArgumentException("bad NVMe-oF host options " + hostNqn + " queues=" + ioQueues + " size=" + queueSize);
        }
    }

    public static NvmfHostOptions defaults(String hostNqn) {
        return new NvmfHostOptions(hostNqn, UUID.nameUUIDFromBytes(hostNqn.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                1, 128, false, false, Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(30), 1);
    }

    public NvmfHostOptions withQueues(int n, int size) {
        return new NvmfHostOptions(hostNqn, hostId, n, size, headerDigest, dataDigest, keepAliveTimeout, connectTimeout,
                reconnectDeadline, Math.min(n, Math.max(1, Runtime.getRuntime().availableProcessors())));
    }

    public NvmfHostOptions withDigests(boolean header, boolean data) {
        return new NvmfHostOptions(hostNqn, hostId, ioQueues, queueSize, header, data, keepAliveTimeout, connectTimeout,
                reconnectDeadline, eventLoopThreads);
    }

    public NvmfHostOptions withKeepAlive(Duration kato) {
        return new NvmfHostOptions(hostNqn, hostId, ioQueues, queueSize, headerDigest, dataDigest, kato, connectTimeout,
                reconnectDeadline, eventLoopThreads);
    }

    public NvmfHostOptions withReconnectDeadline(Duration d) {
        return new NvmfHostOptions(hostNqn, hostId, ioQueues, queueSize, headerDigest, dataDigest, keepAliveTimeout, connectTimeout,
                d, eventLoopThreads);
    }

    public NvmfHostOptions withHostId(UUID id) {
        return new NvmfHostOptions(hostNqn, id, ioQueues, queueSize, headerDigest, dataDigest, keepAliveTimeout, connectTimeout,
                reconnectDeadline, eventLoopThreads);
    }
}
