package io.javastor.ioengine.nvmf.host;

import io.javastor.ioengine.nvmf.auth.DhchapKeys;

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
 * @param busyPollMicros     how long a socket thread keeps polling (no sleep) after its last activity (a request sent or
 *                           answered): a response within that window is seen without a wake-up; 0 never spins
 * @param ioTimeout          how long a command (I/O or admin, except Async Event Requests) may stay unanswered before
 *                           its queue is reset: the connection closed, its commands failed, the controller reconnected
 *                           (Linux nvme-tcp's error recovery; its io_timeout is 30 s too); zero disables
 * @param dhchap             DH-HMAC-CHAP secrets for in-band authentication (with the controller's, we authenticate
 *                           the controller too); null: we authenticate only if the controller asks, and then fail
 */
public record NvmfHostOptions(String hostNqn, UUID hostId, int ioQueues, int queueSize, boolean headerDigest,
                              boolean dataDigest, Duration keepAliveTimeout, Duration connectTimeout,
                              Duration reconnectDeadline, int eventLoopThreads, long busyPollMicros, Duration ioTimeout,
                              DhchapKeys dhchap) {
    /**
     * 100 us, spinning only while at most two commands of the loop's I/O queues are in flight (PollingIoHandler): at
     * QD1 the answer is then seen without a wake-up (2 vCPU AMD EPYC KVM, RAM disk through the target: p50 32 -> 20-24
     * us, no more CPU per I/O), while at depth the loop sleeps in epoll and leaves the cores to the target and the
     * kernel's TCP work (spinning at QD32 had cost 13 -> 16.5 us of CPU per I/O for the same IOPS). docs/benchmarks.md, nvmf.
     */
    public static final long DEFAULT_BUSY_POLL_MICROS = Long.getLong("javastor.nvmf.host.busyPollMicros", 100);

    /** As Linux's nvme_core io_timeout: long enough that a busy but healthy target is never reset. */
    public static final Duration DEFAULT_IO_TIMEOUT = Duration.ofSeconds(30);

    public NvmfHostOptions {
        if (hostNqn == null || !hostNqn.startsWith("nqn.") || ioQueues < 1 || ioQueues > 65534 || queueSize < 2
                || queueSize > 65536 || eventLoopThreads < 1 || busyPollMicros < 0) {
            throw new IllegalArgumentException("bad NVMe-oF host options " + hostNqn + " queues=" + ioQueues + " size=" + queueSize);
        }
        if (ioTimeout == null || ioTimeout.isNegative()) {
            throw new IllegalArgumentException("bad NVMe-oF host option ioTimeout " + ioTimeout + ": must be zero (off) or positive");
        }
    }

    /** Busy-poll window of the socket threads after their last activity (0 disables spinning). */
    public NvmfHostOptions withBusyPoll(long micros) {
        return new NvmfHostOptions(hostNqn, hostId, ioQueues, queueSize, headerDigest, dataDigest, keepAliveTimeout, connectTimeout,
                reconnectDeadline, eventLoopThreads, micros, ioTimeout, dhchap);
    }

    public static NvmfHostOptions defaults(String hostNqn) {
        return new NvmfHostOptions(hostNqn, UUID.nameUUIDFromBytes(hostNqn.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                1, 128, false, false, Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(30), 1, DEFAULT_BUSY_POLL_MICROS,
                DEFAULT_IO_TIMEOUT, null);
    }

    public NvmfHostOptions withQueues(int n, int size) {
        return new NvmfHostOptions(hostNqn, hostId, n, size, headerDigest, dataDigest, keepAliveTimeout, connectTimeout,
                reconnectDeadline, Math.min(n, Math.max(1, Runtime.getRuntime().availableProcessors())), busyPollMicros, ioTimeout, dhchap);
    }

    public NvmfHostOptions withDigests(boolean header, boolean data) {
        return new NvmfHostOptions(hostNqn, hostId, ioQueues, queueSize, header, data, keepAliveTimeout, connectTimeout,
                reconnectDeadline, eventLoopThreads, busyPollMicros, ioTimeout, dhchap);
    }

    public NvmfHostOptions withKeepAlive(Duration kato) {
        return new NvmfHostOptions(hostNqn, hostId, ioQueues, queueSize, headerDigest, dataDigest, kato, connectTimeout,
                reconnectDeadline, eventLoopThreads, busyPollMicros, ioTimeout, dhchap);
    }

    public NvmfHostOptions withReconnectDeadline(Duration d) {
        return new NvmfHostOptions(hostNqn, hostId, ioQueues, queueSize, headerDigest, dataDigest, keepAliveTimeout, connectTimeout,
                d, eventLoopThreads, busyPollMicros, ioTimeout, dhchap);
    }

    public NvmfHostOptions withHostId(UUID id) {
        return new NvmfHostOptions(hostNqn, id, ioQueues, queueSize, headerDigest, dataDigest, keepAliveTimeout, connectTimeout,
                reconnectDeadline, eventLoopThreads, busyPollMicros, ioTimeout, dhchap);
    }

    /** Authenticates in-band with these DH-HMAC-CHAP secrets (null: not at all). */
    public NvmfHostOptions withDhchap(DhchapKeys keys) {
        return new NvmfHostOptions(hostNqn, hostId, ioQueues, queueSize, headerDigest, dataDigest, keepAliveTimeout, connectTimeout,
                reconnectDeadline, eventLoopThreads, busyPollMicros, ioTimeout, keys);
    }

    /** Unanswered-command limit before the queue is reset (zero: never). */
    public NvmfHostOptions withIoTimeout(Duration timeout) {
        return new NvmfHostOptions(hostNqn, hostId, ioQueues, queueSize, headerDigest, dataDigest, keepAliveTimeout, connectTimeout,
                reconnectDeadline, eventLoopThreads, busyPollMicros, timeout, dhchap);
    }
}
