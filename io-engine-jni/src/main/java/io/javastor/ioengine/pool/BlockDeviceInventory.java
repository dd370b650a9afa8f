package io.javastor.ioengine.pool;


import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The node's block devices and whether a pool may go on each (Mayastor's {@code GET /v0/nodes/{node}/block_devices}):
 * read from sysfs (/sys/block and its partitions), /dev/disk/by-* links and the mount table, and from the first
 * 128 KiB of each device (what {@link DiskSignatures} looks for). Operators pick disks from it instead of guessing.
 */
public final class BlockDeviceInventory {

    /**
     * One device.
     *
     * @param devname   /dev/sdb
     * @param devtype   disk or partition
     * @param size      bytes
     * @param devlinks  /dev/disk/by-id/..., /dev/disk/by-path/... links to it (use these in pool disks: they do not move)
     * @param available a pool may be created on it now: allow-listed, no partitions, nothing mounted or holding it,
     *                  no signature
     * @param reason    why not, when not available
     */
    public record Device(String devname, String devtype, int major, int minor, String model, String devpath, List<String> devlinks,
                         long size, String filesystem, String mountpoint, boolean available, String reason) {
    }

    private final Path sys;
    private final Path dev;
    private final Path mountinfo;
    private final DiskPolicy policy;

    public BlockDeviceInventory(DiskPolicy policy) {
        this(policy, Path.of("/sys"), Path.of("/dev"), Path.of("/proc/self/mountinfo"));
    }

    BlockDeviceInventory(DiskPolicy policy, Path sys, Path dev, Path mountinfo) {
        this.policy = policy;
        this.sys = sys;
        this.dev = dev;
        this.mountinfo = mountinfo;
    }

    /** Every disk and partition with a size; with {@code all} false, only the available ones. */
    public List<Device> list(boolean all) throws IOException {
        List<Device> out = new ArrayList<>();
        List<String> mounts = Files.isReadable(mountinfo) ? Files.readAllLines(mountinfo) : List.of();
        List<Path> links = links();
        Path block = sys.resolve("block");
        if (!Files.isDirectory(block)) {
            return out;
        }
        try (Stream<Path> disks = Files.list(block)) {
            for (Path d : disks.sorted().toList()) {
                List<Path> parts = partitions(d);
                out.add(describe(d, "disk", parts.isEmpty() ? "" : "holds " + parts.size() + " partition(s)", mounts, links));
                for (Path p : parts) {
                    out.add(describe(p, "partition", "", mounts, links));
                }
            }
        }
        out.removeIf(x -> x.size() == 0 || (!all && !x.available()));
        out.sort(Comparator.comparing(Device::devname));
        return out;
    }

    private Device describe(Path sysdir, String type, String busy, List<String> mounts, List<Path> links) throws IOException {
        String name = sysdir.getFileName().toString();
        String devname = dev.resolve(name).toString();
        long size = number(sysdir.resolve("size")) * 512;
        String[] mm = read(sysdir.resolve("dev")).orElse("0:0").split(":");
        int major = Integer.parseInt(mm[0].trim());
        int minor = Integer.parseInt(mm[1].trim());
        String model = read(sysdir.resolve("device/model")).orElse("");
        List<String> devlinks = new ArrayList<>();
        for (Path l : links) {
            try {
                if (l.toRealPath().equals(dev.resolve(name).toRealPath())) {
                    devlinks.add(l.toString());
                }
            } catch (IOException gone) {
                // a link to a device that went away meanwhile: not one of this device's
            }
        }
        String mountpoint = mountpointOf(mounts, major, minor);
        String reason = busy;
        if (reason.isEmpty() && !mountpoint.isEmpty()) {
            reason = "mounted at " + mountpoint;
        }
        if (reason.isEmpty() && hasHolders(sysdir)) {
            reason = "held by another device (LVM, RAID, device-mapper)";
        }
        String signature = size > 0 ? signature(Path.of(devname)) : "";
        if (reason.isEmpty() && !signature.isEmpty()) {
            reason = "holds " + signature;
        }
        if (reason.isEmpty() && !allowed(devname, devlinks)) {
            reason = "not on this engine's disk allow-list " + policy.allowedPaths();
        }
        return new Device(devname, type, major, minor, model, sysdir.toRealPath().toString(), devlinks, size, signature, mountpoint,
                reason.isEmpty(), reason);
    }

    private boolean allowed(String devname, List<String> devlinks) {
        for (String p : Stream.concat(Stream.of(devname), devlinks.stream()).toList()) {
            try {
                policy.check("uring://" + p);
                return true;
            } catch (RuntimeException refused) {
                // try the next name of the same device
            }
        }
        return false;
    }

    /** What the device holds (see {@link DiskSignatures}, plus a pool of ours), or "" when it looks unused. */
    private static String signature(Path device) {
        if (!Files.isReadable(device)) {
            return "";
        }
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(128 * 1024); // (a block device's channel reports size 0: read to its end)
            while (b.hasRemaining() && ch.read(b) > 0) {
                // fill what the device has
            }
            ByteBuffer head = b.duplicate().flip();
            if (PoolMetadataCodec.hasMagic(head.duplicate())) {
                return "a Javastor pool";
            }
            return DiskSignatures.find(head).orElse("");
        } catch (IOException e) {
            return "";
        }
    }

    private static List<Path> partitions(Path disk) throws IOException {
        List<Path> parts = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(disk)) {
            for (Path p : s) {
                if (Files.exists(p.resolve("partition"))) {
                    parts.add(p);
                }
            }
        }
        parts.sort(Comparator.naturalOrder());
        return parts;
    }

    private static boolean hasHolders(Path sysdir) throws IOException {
        Path h = sysdir.resolve("holders");
        if (!Files.isDirectory(h)) {
            return false;
        }
        try (Stream<Path> s = Files.list(h)) {
            return s.findAny().isPresent();
        }
    }

    /** mountinfo field 3 is major:minor, field 5 the mount point. */
    private static String mountpointOf(List<String> mounts, int major, int minor) {
        String mm = major + ":" + minor;
        for (String line : mounts) {
            String[] f = line.split(" ");
            if (f.length > 4 && f[2].equals(mm)) {
                return f[4];
            }
        }
        return "";
    }

    private List<Path> links() throws IOException {
        List<Path> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (String kind : List.of("by-id", "by-path", "by-uuid", "by-partuuid")) {
            Path dir = dev.resolve("disk").resolve(kind);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> s = Files.list(dir)) {
                s.sorted().filter(p -> seen.add(p.toString())).forEach(out::add);
            }
        }
        return out;
    }

    private static Optional<String> read(Path f) {
        try {
            return Files.isReadable(f) ? Optional.of(Files.readString(f).trim()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static long number(Path f) {
        return read(f).map(String::trim).filter(s -> s.matches("\\d+")).map(Long::parseLong).orElse(0L);
    }
}
