package io.javastor.ioengine.nvmf.tgt;

import io.javastor.ioengine.nvmf.pdu.AnaState;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.nvmf.auth.DhchapKeys;
import io.javastor.ioengine.nvmf.NettyTransport;
import io.javastor.ioengine.nvmf.pdu.PduDecoder;
import io.javastor.ioengine.nvmf.pdu.PduEncoder;
import io.javastor.ioengine.nvmf.pdu.PduFormat;
import io.javastor.ioengine.reservation.NamespaceReservations;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The NVMe-oF/TCP target: one listener serving the discovery subsystem and every added subsystem.
 *
 * <pre>
 *   NvmfTarget t = new NvmfTarget(NvmfTargetOptions.defaults());
 *   t.start("127.0.0.1", 8420);
 *   t.addSubsystem("nqn.2019-05.io.javastor:" + uuid, replica, serial, "Javastor replica", Set.of());
 *   ...
 *   t.removeSubsystem(nqn);   // disconnects its controllers
 *   t.close();
 * </pre>
 * Thread-safe. The target does not own the devices: removing a subsystem or closing the target leaves them open.
 */
public final class NvmfTarget implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NvmfTarget.class);

    private final NvmfTargetOptions options;
    private final Map<String, Subsystem> subsystems = new ConcurrentHashMap<>();
    private final Set<Integer> controllerIds = ConcurrentHashMap.newKeySet();
    private final AtomicLong nextControllerId = new AtomicLong(1);
    private final AtomicLong generation = new AtomicLong(1);
    /** Bytes of write buffers every queue holds while waiting for the host's data (see TargetLimits). */
    private final AtomicLong dataBytesHeld = new AtomicLong();
    private EventLoopGroup group;
    private Channel listener;

    public NvmfTarget(NvmfTargetOptions options) {
        this.options = options;
        Subsystem discovery = new Subsystem(Subsystem.DISCOVERY_NQN, null, "", "", Set.of(), null);
        subsystems.put(discovery.nqn(), discovery);
    }

    public NvmfTarget() {
        this(NvmfTargetOptions.defaults());
    }

    public NvmfTargetOptions options() {
        return options;
    }

    /** Listens on {@code bindAddress:port} (port 0: any free port); returns the bound address. */
    public synchronized InetSocketAddress start(String bindAddress, int port) {
        if (listener != null) {
            throw new IllegalStateException("NVMe-oF target already listening on " + listener.localAddress());
        }
        NettyTransport transport = NettyTransport.best();
        group = transport.newGroup(options.eventLoopThreads(), "nvmf-target", options.busyPollMicros(), options.pollReactor());
        ServerBootstrap b = new ServerBootstrap().group(group).channel(transport.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // Nothing here throttles on writability (the NVMe queue size bounds what is outstanding), so marks this
                // high only spare the pipeline the writability events a QD32 burst of responses would fire on each turn.
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(8 << 20, 16 << 20))
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        PduFormat format = new PduFormat(true, options.inCapsuleDataSize(), options.maxH2cData(), 0);
                        ch.pipeline().addLast("decoder", new PduDecoder(format))
                                .addLast("encoder", new PduEncoder(format))
                                .addLast("queue", new TransportQueue(NvmfTarget.this, format));
                    }
                });
        try {
            listener = b.bind(bindAddress, port).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IllegalStateException("interrupted while binding " + bindAddress + ":" + port, e);
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            group = null;
            throw new IllegalStateException("cannot listen on " + bindAddress + ":" + port + ": " + e.getMessage(), e);
        }
        InetSocketAddress bound = (InetSocketAddress) listener.localAddress();
        LOG.info("NVMe-oF/TCP target listening on {} ({} transport, {} threads)", bound, transport.name(), options.eventLoopThreads());
        return bound;
    }

    /** The bound port, or -1 when not started. */
    public synchronized int port() {
        return listener == null ? -1 : ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /**
     * Exports {@code device} as namespace 1 of a new subsystem. An empty {@code allowedHostNqns} admits any host.
     * Adding an NQN that exists with the same device updates its allowed hosts; with another device it is an error.
     */
    public Subsystem addSubsystem(String nqn, BlockDevice device, String serial, String model, Set<String> allowedHostNqns) {
        return addSubsystem(nqn, device, serial, model, allowedHostNqns, NamespaceReservations.inMemory(nqn));
    }

    /** As above, with the namespace's reservations (a replica's, kept with it, which every path to it shares). */
    public Subsystem addSubsystem(String nqn, BlockDevice device, String serial, String model, Set<String> allowedHostNqns,
                                  NamespaceReservations reservations) {
        return addSubsystem(nqn, device, serial, model, allowedHostNqns, reservations, Map.of());
    }

    /**
     * As above, with DH-HMAC-CHAP secrets by host NQN (NVMe in-band authentication): when there are any, every host must
     * authenticate with its own, and a host without one is refused. Updating an existing subsystem keeps the
     * controllers of hosts that still have a secret (a rotation applies at their next connect) and disconnects the rest,
     * and every controller that connected before authentication was required.
     */
    public Subsystem addSubsystem(String nqn, BlockDevice device, String serial, String model, Set<String> allowedHostNqns,
                                  NamespaceReservations reservations, Map<String, DhchapKeys> hostKeys) {
        validateNqn(nqn);
        if (Subsystem.DISCOVERY_NQN.equals(nqn)) {
            throw new IllegalArgumentException("'" + nqn + "' is the discovery subsystem");
        }
        if (device.size() < device.blockSize() || Integer.bitCount(device.blockSize()) != 1 || device.blockSize() < 512) {
            throw new IllegalArgumentException("device " + device.uri() + " has an unusable geometry");
        }
        Subsystem fresh = new Subsystem(nqn, device, serial, model, allowedHostNqns, reservations);
        fresh.hostKeys(hostKeys);
        Subsystem existing = subsystems.putIfAbsent(nqn, fresh);
        if (existing != null) {
            if (existing.device() != device) {
                throw new IllegalStateException("subsystem " + nqn + " already exports " + existing.device().uri());
            }
            boolean authenticatedBefore = existing.requiresAuthentication();
            existing.allowedHosts(allowedHostNqns);
            existing.hostKeys(hostKeys);
            generation.incrementAndGet();
            // A narrower host list takes effect now: controllers of hosts no longer allowed are disconnected, and so
            // is every controller that never authenticated once authentication is required.
            for (Controller c : existing.controllers()) {
                if (!existing.allows(c.hostNqn()) || (!authenticatedBefore && existing.requiresAuthentication())) {
                    LOG.info("nqn={} cntlid={} host={} no longer allowed: disconnecting", nqn, c.cntlid(), c.hostNqn());
                    c.destroy();
                }
            }
            return existing;
        }
        generation.incrementAndGet();
        LOG.info("nqn={} added: {} ({} bytes, block size {}), allowed hosts {}{}", nqn, device.uri(), device.size(),
                device.blockSize(), allowedHostNqns.isEmpty() ? "any" : allowedHostNqns,
                hostKeys.isEmpty() ? "" : ", DH-HMAC-CHAP for " + hostKeys.keySet());
        return fresh;
    }

    /** Removes a subsystem and disconnects its controllers; false when there was none. */
    public boolean removeSubsystem(String nqn) {
        if (Subsystem.DISCOVERY_NQN.equals(nqn)) {
            return false;
        }
        Subsystem s = subsystems.remove(nqn);
        if (s == null) {
            return false;
        }
        generation.incrementAndGet();
        s.controllers().forEach(Controller::destroy);
        LOG.info("nqn={} removed", nqn);
        return true;
    }

    /**
     * Sets the ANA state of subsystem {@code nqn} on this target (its path) and tells its hosts with an ANA Change
     * notice; they read the ANA log page and route I/O to another path when this one is no longer accessible.
     * False when there is no such subsystem.
     */
    public boolean anaState(String nqn, AnaState state) {
        Subsystem s = subsystems.get(nqn);
        if (s == null) {
            return false;
        }
        if (s.anaState(state)) {
            LOG.info("nqn={} ANA state {}: hosts notified", nqn, state);
            s.controllers().forEach(Controller::anaChanged);
        }
        return true;
    }

    /**
     * Hands out controller ids of subsystem {@code nqn} from [first, last] only. A host with native multipath refuses
     * a second path whose controller id it already has for the subsystem: a volume's successive targets (on other
     * nodes) take different ranges.
     */
    public void controllerIds(String nqn, int first, int last) {
        if (first < 1 || last > 0xFFEF || first > last) {
            throw new IllegalArgumentException("controller ids must be within 1..65519, got " + first + ".." + last);
        }
        Subsystem s = subsystems.get(nqn);
        if (s == null) {
            throw new IllegalArgumentException("no subsystem " + nqn);
        }
        s.controllerIds(first, last);
    }

    /** Tells connected hosts that the namespace changed (e.g. resized), through their Async Event Requests. */
    public void notifyNamespaceChanged(String nqn) {
        Subsystem s = subsystems.get(nqn);
        if (s != null) {
            s.controllers().forEach(Controller::namespaceAttributeChanged);
        }
    }

    public Subsystem subsystem(String nqn) {
        return subsystems.get(nqn);
    }

    /** Exported subsystems (not the discovery subsystem). */
    public Collection<Subsystem> subsystems() {
        List<Subsystem> l = new ArrayList<>();
        for (Subsystem s : subsystems.values()) {
            if (!s.isDiscovery()) {
                l.add(s);
            }
        }
        return l;
    }

    List<Subsystem> visibleTo(String hostNqn) {
        List<Subsystem> l = new ArrayList<>();
        for (Subsystem s : subsystems()) {
            if (s.allows(hostNqn)) {
                l.add(s);
            }
        }
        l.sort((a, b) -> a.nqn().compareTo(b.nqn()));
        return l;
    }

    long generation() {
        return generation.get();
    }

    InetAddress advertisedAddress(InetAddress local) {
        if (options.advertisedAddress() == null) {
            return local;
        }
        try {
            return InetAddress.getByName(options.advertisedAddress());
        } catch (UnknownHostException e) {
            return local;
        }
    }

    /**
     * Takes {@code bytes} of the data-buffer budget of {@code c} (null before Connect) and of the target; false, taking
     * nothing, when either would go over its cap: the write is then refused for now and the host retries it.
     */
    boolean reserveData(Controller c, long bytes) {
        TargetLimits limits = options.limits();
        if (dataBytesHeld.addAndGet(bytes) > limits.dataBytesPerTarget()) {
            dataBytesHeld.addAndGet(-bytes);
            return false;
        }
        if (c != null && c.dataBytesHeld.addAndGet(bytes) > limits.dataBytesPerController()) {
            c.dataBytesHeld.addAndGet(-bytes);
            dataBytesHeld.addAndGet(-bytes);
            return false;
        }
        return true;
    }

    void releaseData(Controller c, long bytes) {
        dataBytesHeld.addAndGet(-bytes);
        if (c != null) {
            c.dataBytesHeld.addAndGet(-bytes);
        }
    }

    /** Bytes of write buffers held for data that has not arrived yet, by every host. */
    public long dataBytesHeld() {
        return dataBytesHeld.get();
    }

    Controller createController(Subsystem sub, String hostNqn, UUID hostId, long kato, TransportQueue admin) {
        if (sub.controllers().size() >= options.limits().controllersPerSubsystem()) {
            LOG.warn("nqn={} refused a controller for host {}: it has {} already (limit controllers-per-subsystem {})", sub.nqn(),
                    hostNqn, sub.controllers().size(), options.limits().controllersPerSubsystem());
            return null;
        }
        int first = sub.firstControllerId();
        int span = sub.lastControllerId() - first + 1;
        for (int i = 0; i < span; i++) {
            int id = (int) (nextControllerId.getAndIncrement() % span) + first; // within 1..0xFFEF (NVMe-oF 1.1, 4.1)
            if (controllerIds.add(id)) {
                Controller c = new Controller(id, sub, hostNqn, hostId, kato, this, admin);
                sub.register(c);
                if (subsystems.get(sub.nqn()) != sub) { // removed meanwhile
                    c.destroy();
                    return null;
                }
                return c;
            }
        }
        return null;
    }

    void releaseControllerId(int id) {
        controllerIds.remove(id);
    }

    private static void validateNqn(String nqn) {
        if (nqn == null || nqn.length() < 11 || nqn.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 223
                || !nqn.startsWith("nqn.")) {
            throw new IllegalArgumentException("invalid NQN '" + nqn + "': must start with 'nqn.' and be at most 223 bytes");
        }
    }

    /** Stops listening and disconnects every controller. */
    @Override
    public synchronized void close() {
        for (Subsystem s : subsystems.values()) {
            s.controllers().forEach(Controller::destroy);
        }
        if (listener != null) {
            listener.close().syncUninterruptibly();
            listener = null;
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            group = null;
        }
    }
}
