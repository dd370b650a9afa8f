package io.javastor.ioengine.pool;

import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.EngineException.Kind;
import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.DeviceUri;
import io.javastor.ioengine.replica.Replica;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The pools this io-engine holds, and their replicas by uuid. Validates every request before it
 * changes anything. Pool-level operations are serialised here; replica operations by their pool.
 */
public final class PoolRegistry implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PoolRegistry.class);

    private final BlockDeviceFactory devices;
    private final double thinOvercommitRatio;
    private final DiskPolicy policy;
    private final Map<String, Pool> pools = new ConcurrentHashMap<>();
    /** Guards pool create/import/export/destroy and replica create (uuid uniqueness across pools). */
    private final Object registryLock = new Object();
    /** Told the uuid of every replica destroyed, alone or with its pool: what is kept beside a replica goes with it. */
    private final List<Consumer<UUID>> replicaDestroyedListeners = new CopyOnWriteArrayList<>();

    /** @param policy which disks pools may be created on or imported from; every other disk is refused unopened */
    public PoolRegistry(BlockDeviceFactory devices, double thinOvercommitRatio, DiskPolicy policy) {
        if (!(thinOvercommitRatio >= 1.0)) {
            throw new IllegalArgumentException("thin overcommit ratio must be >= 1.0, got " + thinOvercommitRatio);
        }
        this.devices = devices;
        this.thinOvercommitRatio = thinOvercommitRatio;
        this.policy = policy;
    }

    // ------------------------------------------------------------------ pools

    public Pool createPool(String name, List<String> disks, long clusterSize) {
        return createPool(name, disks, clusterSize, false);
    }

    /**
     * Creates a pool, or imports the one of that name the disk holds. A disk with anything else on it (a filesystem, a
     * partition table, LVM or RAID metadata: see {@link DiskSignatures}) is refused unless {@code eraseExisting}.
     */
    public Pool createPool(String name, List<String> disks, long clusterSize, boolean eraseExisting) {
        validatePoolName(name);
        String disk = singleDisk(disks);
        policy.check(disk);
        long cs = clusterSize == 0 ? PoolLayout.DEFAULT_CLUSTER_SIZE : clusterSize;
        if (Long.bitCount(cs) != 1 || cs < PoolLayout.MIN_CLUSTER_SIZE || cs > PoolLayout.MAX_CLUSTER_SIZE) {
            throw EngineException.invalid("cluster_size", "must be a power of two between 1 MiB and 1 GiB, got " + clusterSize);
        }
        synchronized (registryLock) {
            Pool existing = pools.get(name);
            if (existing != null) {
                if (sameDisk(existing.diskUri(), disk)) {
                    return existing;
                }
                throw EngineException.exists("pool " + name + " exists on disk " + existing.diskUri() + ", not " + disk);
            }
            checkDiskFree(disk);
            BlockDevice device = openDisk(disk);
            try {
                Pool.Probe probe = Pool.probe(device);
                if (probe instanceof Pool.Probe.Found f) {
                    if (!f.metadata().name().equals(name)) {
                        throw new EngineException(Kind.FAILED_PRECONDITION, "disk " + disk + " holds pool '" + f.metadata().name()
                                + "'; destroy or import that pool instead of creating '" + name + "'");
                    }
                    // Mayastor's habit: creating a pool that is already on the disk imports it.
                    return register(Pool.open(disk, device, f, thinOvercommitRatio));
                }
                if (probe instanceof Pool.Probe.Corrupt c) {
                    throw new EngineException(Kind.FAILED_PRECONDITION, "disk " + disk + " holds damaged pool metadata (" + c.reason()
                            + "); refusing to overwrite it. Wipe the disk's first blocks to reuse it.");
                }
                java.util.Optional<String> inUse = DiskSignatures.find(device);
                if (inUse.isPresent() && !eraseExisting) {
                    throw new EngineException(Kind.FAILED_PRECONDITION, "disk " + disk + " holds " + inUse.get() + "; pools are created "
                            + "only on unused disks. Nothing was written. To erase it and create the pool anyway, ask with erase_existing");
                }
                if (inUse.isPresent()) {
                    LOG.warn("pool={} disk={}: erasing {} as the request asked", name, disk, inUse.get());
                }
                try {
                    return register(Pool.create(disk, device, name, cs, thinOvercommitRatio));
                } catch (IllegalArgumentException e) {
                    throw EngineException.invalid("disks", e.getMessage());
                }
            } catch (RuntimeException e) {
                device.close();
                throw e;
            }
        }
    }

    public Pool importPool(String name, List<String> disks) {
        validatePoolName(name);
        String disk = singleDisk(disks);
        policy.check(disk);
        synchronized (registryLock) {
            Pool existing = pools.get(name);
            if (existing != null) {
                if (sameDisk(existing.diskUri(), disk)) {
                    return existing;
                }
                throw EngineException.exists("pool " + name + " is already imported from disk " + existing.diskUri());
            }
            checkDiskFree(disk);
            BlockDevice device = openDisk(disk);
            try {
                Pool.Probe probe = Pool.probe(device);
                if (probe instanceof Pool.Probe.Empty) {
                    throw EngineException.notFound("no pool found on disk " + disk);
                }
                if (probe instanceof Pool.Probe.Corrupt c) {
                    throw new EngineException(Kind.DATA_LOSS, "pool metadata on disk " + disk + " is corrupt: " + c.reason());
                }
                Pool.Probe.Found f = (Pool.Probe.Found) probe;
                if (!f.metadata().name().equals(name)) {
                    throw new EngineException(Kind.FAILED_PRECONDITION, "disk " + disk + " holds pool '" + f.metadata().name()
                            + "', not '" + name + "'");
                }
                return register(Pool.open(disk, device, f, thinOvercommitRatio));
            } catch (RuntimeException e) {
                device.close();
                throw e;
            }
        }
    }

    /**
     * Imports whatever pool a configured disk holds (engine start). Returns empty when the disk holds
     * no pool; a damaged pool is logged and skipped, never overwritten.
     */
    public Optional<Pool> importAny(String disk) {
        policy.check(disk);
        synchronized (registryLock) {
            for (Pool p : pools.values()) {
                if (sameDisk(p.diskUri(), disk)) {
                    return Optional.of(p);
                }
            }
            BlockDevice device = openDisk(disk);
            Pool.Probe probe;
            try {
                probe = Pool.probe(device);
            } catch (RuntimeException e) {
                device.close();
                throw e;
            }
            if (probe instanceof Pool.Probe.Found f) {
                if (pools.containsKey(f.metadata().name())) {
                    device.close();
                    throw EngineException.exists("disk " + disk + " holds pool '" + f.metadata().name()
                            + "' but a pool of that name is already imported from " + pools.get(f.metadata().name()).diskUri());
                }
                return Optional.of(register(Pool.open(disk, device, f, thinOvercommitRatio)));
            }
            device.close();
            if (probe instanceof Pool.Probe.Corrupt c) {
                throw new EngineException(Kind.DATA_LOSS, "pool metadata on disk " + disk + " is corrupt: " + c.reason());
            }
            return Optional.empty();
        }
    }

    private Pool register(Pool p) {
        pools.put(p.name(), p);
        return p;
    }

    public void exportPool(String name) {
        synchronized (registryLock) {
            Pool p = pools.remove(name);
            if (p == null) {
                throw EngineException.notFound("pool " + name + " not found");
            }
            p.close();
            LOG.info("pool={} exported", name);
        }
    }

    /** Registers {@code listener} to be told of every destroyed replica (after its data is gone). */
    public void onReplicaDestroyed(Consumer<UUID> listener) {
        replicaDestroyedListeners.add(listener);
    }

    private void replicaDestroyed(UUID uuid) {
        replicaDestroyedListeners.forEach(l -> l.accept(uuid));
    }

    /** Destroys a pool and its replicas' data. Idempotent: an absent pool is already destroyed. */
    public void destroyPool(String name) {
        List<UUID> replicas;
        synchronized (registryLock) {
            Pool p = pools.remove(name);
            if (p == null) {
                return;
            }
            replicas = p.replicas().stream().map(Replica::uuid).toList();
            p.destroy();
            devices.releaseMalloc(p.diskUri());
        }
        replicas.forEach(this::replicaDestroyed);
    }

    public Optional<Pool> pool(String name) {
        return Optional.ofNullable(pools.get(name));
    }

    public Pool requirePool(String name) {
        Pool p = pools.get(name);
        if (p == null) {
            throw EngineException.notFound("pool " + name + " not found");
        }
        return p;
    }

    public List<Pool> pools() {
        List<Pool> out = new ArrayList<>(pools.values());
        out.sort(Comparator.comparing(Pool::name));
        return out;
    }

    // ------------------------------------------------------------------ replicas

    public Replica createReplica(String uuidText, String name, String poolName, long size, boolean thin) {
        UUID uuid = parseUuid(uuidText);
        String replicaName = name == null || name.isEmpty() ? uuid.toString() : name;
        validateReplicaName(replicaName);
        if (poolName == null || poolName.isEmpty()) {
            throw EngineException.invalid("pool", "is required");
        }
        if (size <= 0) {
            throw EngineException.invalid("size", "must be greater than 0, got " + size);
        }
        synchronized (registryLock) {
            Pool pool = requirePool(poolName);
            if (size % pool.layout().blockSize() != 0) {
                throw EngineException.invalid("size", size + " is not a multiple of the pool's block size " + pool.layout().blockSize());
            }
            Replica elsewhere = findReplica(uuid).orElse(null);
            if (elsewhere != null && elsewhere.pool() != pool) {
                throw EngineException.exists("replica " + uuid + " exists in pool " + elsewhere.pool().name());
            }
            return pool.createReplica(uuid, replicaName, size, thin);
        }
    }

    public void destroyReplica(String uuidText, String poolName) {
        UUID uuid = parseUuid(uuidText);
        Replica r = findReplica(uuid).orElse(null);
        if (r == null) {
            if (poolName != null && !poolName.isEmpty() && !pools.containsKey(poolName)) {
                throw EngineException.notFound("pool " + poolName + " not found");
            }
            return; // idempotent
        }
        if (poolName != null && !poolName.isEmpty() && !r.pool().name().equals(poolName)) {
            throw EngineException.notFound("replica " + uuid + " is not in pool " + poolName + " (it is in " + r.pool().name() + ")");
        }
        r.pool().destroyReplica(uuid);
        replicaDestroyed(uuid);
    }

    public Replica resizeReplica(String uuidText, long newSize) {
        UUID uuid = parseUuid(uuidText);
        Replica r = findReplica(uuid).orElseThrow(() -> EngineException.notFound("replica " + uuid + " not found"));
        if (newSize <= 0 || newSize % r.blockSize() != 0) {
            throw EngineException.invalid("requested_size", "must be a positive multiple of the block size " + r.blockSize() + ", got " + newSize);
        }
        return r.pool().resizeReplica(uuid, newSize);
    }

    public Optional<Replica> findReplica(UUID uuid) {
        for (Pool p : pools.values()) {
            Replica r = p.replica(uuid);
            if (r != null) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    public Replica requireReplica(String uuidText) {
        UUID uuid = parseUuid(uuidText);
        return findReplica(uuid).orElseThrow(() -> EngineException.notFound("replica " + uuid + " not found"));
    }

    public List<Replica> replicas() {
        List<Replica> out = new ArrayList<>();
        for (Pool p : pools()) {
            out.addAll(p.replicas());
        }
        out.sort(Comparator.comparing(r -> r.uuid().toString()));
        return out;
    }

    @Override
    public void close() {
        synchronized (registryLock) {
            Collection<Pool> all = new ArrayList<>(pools.values());
            pools.clear();
            for (Pool p : all) {
                p.close();
            }
        }
    }

    // ------------------------------------------------------------------ validation

    public static UUID parseUuid(String text) {
        if (text == null || text.isEmpty()) {
            throw EngineException.invalid("uuid", "is required");
        }
        try {
            UUID u = UUID.fromString(text);
            if (!u.toString().equalsIgnoreCase(text)) {
                throw new IllegalArgumentException();
            }
            return u;
        } catch (IllegalArgumentException e) {
            throw EngineException.invalid("uuid", "'" + text + "' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
        }
    }

    static void validatePoolName(String name) {
        if (name == null || name.isEmpty()) {
            throw EngineException.invalid("name", "is required");
        }
        if (name.contains("/")) {
            throw EngineException.invalid("name", "must not contain '/', got '" + name + "'");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > PoolMetadataCodec.MAX_POOL_NAME || name.isBlank()
                || name.chars().anyMatch(Character::isISOControl)) {
            throw EngineException.invalid("name", "must be 1.." + PoolMetadataCodec.MAX_POOL_NAME + " printable bytes");
        }
    }

    static void validateReplicaName(String name) {
        if (name.contains("/")) {
            throw EngineException.invalid("name", "must not contain '/', got '" + name + "'");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > PoolMetadataCodec.MAX_REPLICA_NAME || name.isBlank()
                || name.chars().anyMatch(Character::isISOControl)) {
            throw EngineException.invalid("name", "must be 1.." + PoolMetadataCodec.MAX_REPLICA_NAME + " printable bytes");
        }
    }

    private static String singleDisk(List<String> disks) {
        if (disks == null || disks.isEmpty()) {
            throw EngineException.invalid("disks", "one disk URI is required");
        }
        if (disks.size() > 1) {
            throw EngineException.invalid("disks", "a pool lives on exactly one disk, got " + disks.size());
        }
        try {
            DeviceUri.parse(disks.get(0));
        } catch (IllegalArgumentException e) {
            throw EngineException.invalid("disks", e.getMessage());
        }
        return disks.get(0);
    }

    private BlockDevice openDisk(String disk) {
        try {
            return devices.open(disk);
        } catch (IllegalArgumentException e) {
            throw EngineException.invalid("disks", e.getMessage());
        }
    }

    private void checkDiskFree(String disk) {
        for (Pool p : pools.values()) {
            if (sameDisk(p.diskUri(), disk)) {
                throw EngineException.exists("disk " + disk + " is in use by pool " + p.name());
            }
        }
    }

    /** Two URIs name the same disk when scheme family and path match (query parameters aside). */
    static boolean sameDisk(String a, String b) {
        DeviceUri ua = DeviceUri.parse(a);
        DeviceUri ub = DeviceUri.parse(b);
        if (ua instanceof DeviceUri.Uring x && ub instanceof DeviceUri.Uring y) {
            return x.path().normalize().equals(y.path().normalize());
        }
        if (ua instanceof DeviceUri.Malloc x && ub instanceof DeviceUri.Malloc y) {
            return x.name().equals(y.name());
        }
        return false;
    }
}
