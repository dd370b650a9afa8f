package io.javastor.csi.node;

import csi.v1.Csi.NodeExpandVolumeRequest;
import csi.v1.Csi.NodeExpandVolumeResponse;
import csi.v1.Csi.NodeGetCapabilitiesRequest;
import csi.v1.Csi.NodeGetCapabilitiesResponse;
import csi.v1.Csi.NodeGetInfoRequest;
import csi.v1.Csi.NodeGetInfoResponse;
import csi.v1.Csi.NodeGetVolumeStatsRequest;
import csi.v1.Csi.NodeGetVolumeStatsResponse;
import csi.v1.Csi.NodePublishVolumeRequest;
import csi.v1.Csi.NodePublishVolumeResponse;
import csi.v1.Csi.NodeServiceCapability;
import csi.v1.Csi.NodeStageVolumeRequest;
import csi.v1.Csi.NodeStageVolumeResponse;
import csi.v1.Csi.NodeUnpublishVolumeRequest;
import csi.v1.Csi.NodeUnpublishVolumeResponse;
import csi.v1.Csi.NodeUnstageVolumeRequest;
import csi.v1.Csi.NodeUnstageVolumeResponse;
import csi.v1.Csi.Topology;
import csi.v1.Csi.VolumeCapability;
import csi.v1.Csi.VolumeCondition;
import csi.v1.Csi.VolumeUsage;
import csi.v1.NodeGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.javastor.csi.Args;
import io.javastor.csi.CsiProperties;
import io.javastor.csi.VolumeContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/** CSI Node: kernel NVMe/TCP initiator, filesystem and mounts on the application's node (runs as root). */
public class NodeService extends NodeGrpc.NodeImplBase {
    private static final Logger log = LoggerFactory.getLogger(NodeService.class);
    public static final String NQN_PREFIX = "nqn.2019-05.io.javastor:";
    public static final String HOST_NQN_PREFIX = "nqn.2019-05.io.javastor:node-name:";
    public static final String TOPOLOGY_NODE = "io.javastor/nodename";
    public static final String TOPOLOGY_CSI_NODE = "io.javastor/csi-node";
    private final CsiProperties props;
    private final NvmeCli nvme;
    private final Mounter mounter;
    private final HostSecrets secrets;
    private final java.util.function.Consumer<String> connecting;
    private final ConcurrentHashMap<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    public NodeService(CsiProperties props, NvmeCli nvme, Mounter mounter) {
        this(props, nvme, mounter, HostSecrets.none());
    }

    /** @param secrets where the DH-HMAC-CHAP secrets of this node's connections come from (the core agent) */
    public NodeService(CsiProperties props, NvmeCli nvme, Mounter mounter, HostSecrets secrets) {
        this(props, nvme, mounter, secrets, nqn -> { });
    }

    /** @param connecting told of each subsystem before the plugin connects it (the path agent: a connect is no lost path) */
    public NodeService(CsiProperties props, NvmeCli nvme, Mounter mounter, HostSecrets secrets, java.util.function.Consumer<String> connecting) {
        this.props = props;
        this.nvme = nvme;
        this.mounter = mounter;
        this.secrets = secrets;
        this.connecting = connecting;
    }

    @Override
    public void nodeGetInfo(NodeGetInfoRequest request, StreamObserver<NodeGetInfoResponse> out) {
        reply(out, () -> NodeGetInfoResponse.newBuilder().setNodeId(props.nodeId())
                .setMaxVolumesPerNode(props.getMaxVolumesPerNode())
                .setAccessibleTopology(Topology.newBuilder().putAllSegments(props.getTopology())
                        .putSegments(TOPOLOGY_CSI_NODE, "javastor").putSegments(TOPOLOGY_NODE, props.nodeId()))
                .build());
    }

    @Override
    public void nodeGetCapabilities(NodeGetCapabilitiesRequest request, StreamObserver<NodeGetCapabilitiesResponse> out) {
        NodeGetCapabilitiesResponse.Builder b = NodeGetCapabilitiesResponse.newBuilder();
        for (NodeServiceCapability.RPC.Type t : List.of(NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME,
                NodeServiceCapability.RPC.Type.EXPAND_VOLUME, NodeServiceCapability.RPC.Type.GET_VOLUME_STATS,
                NodeServiceCapability.RPC.Type.VOLUME_CONDITION)) {
            b.addCapabilities(NodeServiceCapability.newBuilder().setRpc(NodeServiceCapability.RPC.newBuilder().setType(t)));
        }
        reply(out, b::build);
    }

    @Override
    public void nodeStageVolume(NodeStageVolumeRequest req, StreamObserver<NodeStageVolumeResponse> out) {
        reply(out, () -> {
            String volumeId = Args.required("volume_id", req.getVolumeId());
            Path staging = Args.absolutePath("staging_target_path", req.getStagingTargetPath());
            VolumeCapability cap = Args.capability("volume_capability", req.hasVolumeCapability(), req.getVolumeCapability());
            String unsupported = Args.unsupportedAccessMode(cap);
            if (unsupported != null) {
                throw Args.invalid("volume_capability.access_mode", unsupported);
            }
            NvmeCli.Target target = target(volumeId, req.getPublishContextMap().get("uri"));
            VolumeContext ctx = VolumeContext.from(req.getVolumeContextMap());
            String fs = null;
            if (cap.hasMount()) {
                fs = Args.fsType(cap, ctx.fsType());
                if (!Mounter.FILESYSTEMS.contains(fs)) {
                    throw Args.invalid("volume_capability.mount.fs_type", "'" + fs + "' is not one of " + Mounter.FILESYSTEMS);
                }
            }
            String fsType = fs;
            return locked(volumeId, () -> {
                Path device = connect(target, ctx);
                if (fsType == null) {
                    return NodeStageVolumeResponse.getDefaultInstance(); // raw block: connected, left unformatted
                }
                Optional<Mounter.Mount> existing = mounter.mountAt(staging);
                String devNumber = nvme.majorMinor(device).orElseThrow(() -> Status.INTERNAL
                        .withDescription("no sysfs entry for " + device).asRuntimeException());
                if (existing.isPresent()) {
                    if (existing.get().majorMinor().equals(devNumber)) {
                        return NodeStageVolumeResponse.getDefaultInstance(); // already staged here
                    }
                    throw Status.ALREADY_EXISTS.withDescription("staging_target_path " + staging + " already has "
                            + existing.get().source() + " mounted").asRuntimeException();
                }
                Optional<String> onDisk = mounter.filesystemOn(device);
                if (onDisk.isEmpty()) {
                    if (!mounter.canMake(fsType)) {
                        throw Status.FAILED_PRECONDITION.withDescription("mkfs." + fsType + " is not installed on node "
                                + props.nodeId()).asRuntimeException();
                    }
                    log.info("volume {}: formatting blank {} as {}", volumeId, device, fsType);
                    mounter.mkfs(fsType, device);
                } else if (!onDisk.get().equals(fsType)) {
                    throw Status.FAILED_PRECONDITION.withDescription("volume " + volumeId + " already holds a " + onDisk.get()
                            + " filesystem, not " + fsType + "; it is never reformatted").asRuntimeException();
                }
                Files.createDirectories(staging);
                mounter.mount(device, staging, fsType, cap.getMount().getMountFlagsList());
                log.info("volume {}: {} mounted at {}", volumeId, device, staging);
                return NodeStageVolumeResponse.getDefaultInstance();
            });
        });
    }

    @Override
    public void nodeUnstageVolume(NodeUnstageVolumeRequest req, StreamObserver<NodeUnstageVolumeResponse> out) {
        reply(out, () -> {
            String volumeId = Args.required("volume_id", req.getVolumeId());
            Path staging = Args.absolutePath("staging_target_path", req.getStagingTargetPath());
            return locked(volumeId, () -> {
                while (mounter.mountAt(staging).isPresent()) {
                    mounter.unmount(staging);
                }
                String nqn = NQN_PREFIX + volumeId;
                Optional<Path> device = nvme.namespaceDevice(nqn);
                if (device.isPresent()) {
                    String dev = nvme.majorMinor(device.get()).orElse("");
                    List<Path> users = mounter.mounts().stream().filter(m -> m.majorMinor().equals(dev)).map(Mounter.Mount::mountPoint).toList();
                    if (!users.isEmpty()) {
                        throw Status.FAILED_PRECONDITION.withDescription("volume " + volumeId + " is still published at "
                                + users).asRuntimeException();
                    }
                }
                if (nvme.disconnect(nqn)) {
                    log.info("volume {}: disconnected {}", volumeId, nqn);
                }
                return NodeUnstageVolumeResponse.getDefaultInstance();
            });
        });
    }

    @Override
    public void nodePublishVolume(NodePublishVolumeRequest req, StreamObserver<NodePublishVolumeResponse> out) {
        reply(out, () -> {
            String volumeId = Args.required("volume_id", req.getVolumeId());
            Path staging = Args.absolutePath("staging_target_path", req.getStagingTargetPath());
            Path targetPath = Args.absolutePath("target_path", req.getTargetPath());
            VolumeCapability cap = Args.capability("volume_capability", req.hasVolumeCapability(), req.getVolumeCapability());
            String unsupported = Args.unsupportedAccessMode(cap);
            if (unsupported != null) {
                throw Args.invalid("volume_capability.access_mode", unsupported);
            }
            boolean readOnly = req.getReadonly()
                    || cap.getAccessMode().getMode() == VolumeCapability.AccessMode.Mode.SINGLE_NODE_READER_ONLY;
            return locked(volumeId, () -> {
                Path source;
                if (cap.hasBlock()) {
                    source = nvme.namespaceDevice(NQN_PREFIX + volumeId).orElseThrow(() -> Status.FAILED_PRECONDITION
                            .withDescription("volume " + volumeId + " is not staged on this node (no NVMe namespace)").asRuntimeException());
                } else {
                    mounter.mountAt(staging).orElseThrow(() -> Status.FAILED_PRECONDITION
                            .withDescription("volume " + volumeId + " is not staged at " + staging).asRuntimeException());
                    source = staging;
                }
                Optional<Mounter.Mount> existing = mounter.mountAt(targetPath);
                if (existing.isPresent()) {
                    boolean same = cap.hasBlock() ? mounter.sameDeviceNode(targetPath, source)
                            : existing.get().majorMinor().equals(mounter.mountAt(staging).map(Mounter.Mount::majorMinor).orElse(""));
                    if (same && existing.get().readOnly() == readOnly) {
                        return NodePublishVolumeResponse.getDefaultInstance();
                    }
                    throw Status.ALREADY_EXISTS.withDescription("target_path " + targetPath + " is already published with "
                            + (same ? "another read-only setting" : "another volume")).asRuntimeException();
                }
                if (cap.hasBlock()) {
                    Files.createDirectories(targetPath.getParent());
                    if (!Files.exists(targetPath)) {
                        Files.createFile(targetPath);
                    }
                } else {
                    Files.createDirectories(targetPath);
                }
                mounter.bindMount(source, targetPath, readOnly);
                log.info("volume {}: published at {}{}", volumeId, targetPath, readOnly ? " (read-only)" : "");
                return NodePublishVolumeResponse.getDefaultInstance();
            });
        });
    }

    @Override
    public void nodeUnpublishVolume(NodeUnpublishVolumeRequest req, StreamObserver<NodeUnpublishVolumeResponse> out) {
        reply(out, () -> {
            String volumeId = Args.required("volume_id", req.getVolumeId());
            Path targetPath = Args.absolutePath("target_path", req.getTargetPath());
            return locked(volumeId, () -> {
                while (mounter.mountAt(targetPath).isPresent()) {
                    mounter.unmount(targetPath);
                }
                Files.deleteIfExists(targetPath); // the file (block) or directory (mount) we created
                return NodeUnpublishVolumeResponse.getDefaultInstance();
            });
        });
    }

    @Override
    public void nodeGetVolumeStats(NodeGetVolumeStatsRequest req, StreamObserver<NodeGetVolumeStatsResponse> out) {
        reply(out, () -> {
            String volumeId = Args.required("volume_id", req.getVolumeId());
            Args.required("volume_path", req.getVolumePath());
            // CSI spec, NodeGetVolumeStats: a path that is no volume of this node is NOT_FOUND (csi-sanity sends a
            // relative one); INVALID_ARGUMENT is for a missing field.
            Path path = Path.of(req.getVolumePath().replace('\0', '?')).normalize();
            if (!path.isAbsolute() || !Files.exists(path)) {
                throw Status.NOT_FOUND.withDescription("volume_path " + req.getVolumePath() + " does not exist on this node")
                        .asRuntimeException();
            }
            Mounter.Mount mount = mounter.mountAt(path).orElseThrow(() -> Status.NOT_FOUND
                    .withDescription("volume " + volumeId + " is not published or staged at " + path).asRuntimeException());
            NodeGetVolumeStatsResponse.Builder b = NodeGetVolumeStatsResponse.newBuilder();
            boolean block = !Files.isDirectory(path);
            // a published raw block volume is a bind mount of the device node: mountinfo names /dev's filesystem, not the device
            Optional<String> devNumber = block
                    ? nvme.namespaceDevice(NQN_PREFIX + volumeId).flatMap(nvme::majorMinor)
                    : Optional.of(mount.majorMinor());
            VolumeCondition condition = condition(volumeId, devNumber);
            b.setVolumeCondition(condition);
            if (condition.getAbnormal()) {
                return b.build(); // the device is gone: no usage to report
            }
            if (!block) {
                Mounter.FsStats s = mounter.statfs(path);
                b.addUsage(VolumeUsage.newBuilder().setUnit(VolumeUsage.Unit.BYTES).setTotal(s.totalBytes())
                        .setAvailable(s.availableBytes()).setUsed(s.usedBytes()));
                b.addUsage(VolumeUsage.newBuilder().setUnit(VolumeUsage.Unit.INODES).setTotal(s.totalInodes())
                        .setAvailable(s.freeInodes()).setUsed(s.totalInodes() - s.freeInodes()));
            } else {
                Path device = nvme.namespaceDevice(NQN_PREFIX + volumeId).orElseThrow();
                b.addUsage(VolumeUsage.newBuilder().setUnit(VolumeUsage.Unit.BYTES).setTotal(nvme.sizeBytes(device)));
            }
            return b.build();
        });
    }

    @Override
    public void nodeExpandVolume(NodeExpandVolumeRequest req, StreamObserver<NodeExpandVolumeResponse> out) {
        reply(out, () -> {
            String volumeId = Args.required("volume_id", req.getVolumeId());
            Path path = Args.absolutePath("volume_path", req.getVolumePath());
            if (req.hasCapacityRange() && (req.getCapacityRange().getRequiredBytes() < 0 || req.getCapacityRange().getLimitBytes() < 0)) {
                throw Args.invalid("capacity_range", "must not be negative");
            }
            if (!Files.exists(path)) {
                throw Status.NOT_FOUND.withDescription("volume_path " + path + " does not exist").asRuntimeException();
            }
            return locked(volumeId, () -> {
                String nqn = NQN_PREFIX + volumeId;
                Path device = nvme.namespaceDevice(nqn).orElseThrow(() -> Status.NOT_FOUND
                        .withDescription("volume " + volumeId + " is not connected on this node").asRuntimeException());
                long required = req.getCapacityRange().getRequiredBytes();
                long size = awaitKernelSize(nqn, device, required);
                if (required > 0 && size < required) {
                    throw Status.OUT_OF_RANGE.withDescription("the device is " + size + " bytes after a rescan, "
                            + required + " were asked; expand the volume on the controller first").asRuntimeException();
                }
                boolean block = req.getVolumeCapability().hasBlock() || !Files.isDirectory(path);
                if (!block) {
                    Mounter.Mount mount = mounter.mountAt(path).orElseThrow(() -> Status.FAILED_PRECONDITION
                            .withDescription("nothing is mounted at " + path).asRuntimeException());
                    mounter.grow(mount.fsType(), device, path);
                    log.info("volume {}: {} grown to the device's {} bytes", volumeId, mount.fsType(), size);
                }
                return NodeExpandVolumeResponse.newBuilder().setCapacityBytes(size).build();
            });
        });
    }

    /**
     * The device's size once the kernel sees at least {@code required} bytes (0: whatever it sees after a rescan).
     * The target sends a Namespace Attribute Changed notice when the volume grows, so the kernel usually knows
     * already; if it does not within a few seconds (a notice lost with a reconnect, an older target), an explicit
     * {@code nvme ns-rescan} asks it, and we poll up to the device timeout. When the target itself reports less than
     * {@code required} (Identify Namespace), nothing would help: OUT_OF_RANGE at once.
     */
    private long awaitKernelSize(String nqn, Path device, long required) {
        long size = nvme.sizeBytes(device);
        if (required <= 0) {
            nvme.rescan(nqn);
            return nvme.sizeBytes(device);
        }
        if (size >= required) {
            return size;
        }
        OptionalLong atTarget = nvme.namespaceBytesAtTarget(device);
        if (atTarget.isPresent() && atTarget.getAsLong() < required) {
            // The target's own answer: no notice or rescan can make the device bigger, so say so now, not after the timeout.
            throw Status.OUT_OF_RANGE.withDescription("the device is " + size + " bytes and its target reports " + atTarget.getAsLong()
                    + ", " + required + " were asked; expand the volume on the controller first").asRuntimeException();
        }
        long noticeBy = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (size < required && System.nanoTime() < noticeBy) {
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos()); // the kernel applies the new capacity asynchronously
            size = nvme.sizeBytes(device);
        }
        if (size >= required) {
            return size;
        }
        log.info("device {} is {} bytes, {} wanted: no namespace notice seen; rescanning {}", device, size, required, nqn);
        nvme.rescan(nqn);
        long deadline = System.nanoTime() + props.getDeviceTimeout().toNanos();
        size = nvme.sizeBytes(device);
        while (size < required && System.nanoTime() < deadline) {
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
            size = nvme.sizeBytes(device);
        }
        return size;
    }

    private VolumeCondition condition(String volumeId, Optional<String> devNumber) {
        String nqn = NQN_PREFIX + volumeId;
        if (devNumber.isEmpty() || !nvme.blockDeviceExists(devNumber.get()) || nvme.subsystemDir(nqn).isEmpty()) {
            return VolumeCondition.newBuilder().setAbnormal(true).setMessage("the NVMe device of volume " + volumeId + " is gone").build();
        }
        List<String> live = nvme.liveControllers(nqn);
        if (live.isEmpty()) {
            return VolumeCondition.newBuilder().setAbnormal(true).setMessage("no live NVMe/TCP path to " + nqn
                    + " (controllers: " + nvme.controllers(nqn).stream().map(c -> c + "=" + nvme.controllerState(c)).toList() + ")").build();
        }
        return VolumeCondition.newBuilder().setAbnormal(false).setMessage("connected via " + live).build();
    }

    private Path connect(NvmeCli.Target target, VolumeContext ctx) {
        int ctrlLoss = ctx.ioTimeoutSeconds() > 0 ? ctx.ioTimeoutSeconds() : props.getCtrlLossTimeoutSeconds();
        String hostNqn = HOST_NQN_PREFIX + props.nodeId();
        Optional<HostSecrets.Pair> pair = nvme.liveControllers(target.nqn()).isEmpty() ? secrets.of(volumeOf(target), hostNqn) : Optional.empty();
        if (pair.isPresent() && !nvme.supportsInBandAuthentication()) {
            throw Status.FAILED_PRECONDITION.withDescription("volume " + volumeOf(target) + "'s target requires NVMe in-band authentication"
                    + " (DH-HMAC-CHAP) and this node's kernel has none (no dhchap_secret in /dev/nvme-fabrics; CONFIG_NVME_HOST_AUTH)")
                    .asRuntimeException();
        }
        if (nvme.liveControllers(target.nqn()).isEmpty()) {
            connecting.accept(target.nqn());
        }
        NvmeCli.Connect c = nvme.connect(target, hostNqn, ctrlLoss, props.getReconnectDelaySeconds(), pair);
        if (c instanceof NvmeCli.Connect.Failed f) {
            throw Status.UNAVAILABLE.withDescription("cannot connect to " + target + ": " + f.why()).asRuntimeException();
        }
        long deadline = System.nanoTime() + props.getDeviceTimeout().toNanos();
        Optional<Path> device = nvme.namespaceDevice(target.nqn());
        while (device.isEmpty() && System.nanoTime() < deadline) {
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos()); // udev/sysfs catch up after the connect
            device = nvme.namespaceDevice(target.nqn());
        }
        return device.orElseThrow(() -> Status.DEADLINE_EXCEEDED.withDescription("no namespace block device for "
                + target.nqn() + " within " + props.getDeviceTimeout() + " after " + c + "; the kernel's controllers: "
                + nvme.describeControllers()).asRuntimeException());
    }

    /** The volume of a target: its NQN is ours with the volume's uuid. */
    private static String volumeOf(NvmeCli.Target target) {
        return target.nqn().startsWith(NQN_PREFIX) ? target.nqn().substring(NQN_PREFIX.length()) : target.nqn();
    }

    private static NvmeCli.Target target(String volumeId, String uri) {
        Args.required("publish_context.uri", uri);
        NvmeCli.Target t;
        try {
            t = NvmeCli.Target.parse(uri);
        } catch (IllegalArgumentException e) {
            throw Args.invalid("publish_context.uri", e.getMessage());
        }
        if (!t.nqn().equals(NQN_PREFIX + volumeId)) {
            throw Args.invalid("publish_context.uri", "subsystem " + t.nqn() + " is not volume " + volumeId + "'s");
        }
        return t;
    }

    interface Body<T> {
        T run() throws IOException;
    }

    /** One operation per volume at a time; a second concurrent one is ABORTED as the spec suggests. */
    private <T> T locked(String volumeId, Body<T> body) {
        ReentrantLock lock = locks.computeIfAbsent(volumeId, k -> new ReentrantLock());
        if (!lock.tryLock()) {
            throw Status.ABORTED.withDescription("an operation on volume " + volumeId + " is in progress").asRuntimeException();
        }
        try {
            return body.run();
        } catch (IOException e) {
            throw Status.INTERNAL.withDescription(e.toString()).asRuntimeException();
        } finally {
            lock.unlock();
        }
    }

    private static <T> void reply(StreamObserver<T> out, Supplier<T> body) {
        T value;
        try {
            value = body.get();
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        } catch (RuntimeException e) {
            log.warn("node call failed", e);
            out.onError(Status.INTERNAL.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        out.onNext(value);
        out.onCompleted();
    }
}
