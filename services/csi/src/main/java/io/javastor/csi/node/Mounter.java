package io.javastor.csi.node;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Filesystems and mounts: blkid, mkfs.*, mount/umount, resize tools, statfs; mount table from /proc/self/mountinfo. */
public class Mounter {
    public static final Set<String> FILESYSTEMS = Set.of("ext4", "xfs", "btrfs");
    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    /** One line of mountinfo. */
    public record Mount(String majorMinor, String root, Path mountPoint, String options, String fsType, String source) {
        public boolean readOnly() {
            return List.of(options.split(",")).contains("ro");
        }
    }

    /** statfs of a mounted filesystem. */
    public record FsStats(long totalBytes, long availableBytes, long usedBytes, long totalInodes, long freeInodes) {
    }

    /** What blkid found on a device: a filesystem type, or nothing. */
    public Optional<String> filesystemOn(Path device) {
        Exec.Result r = Exec.run(TIMEOUT, List.of("blkid", "-p", "-o", "value", "-s", "TYPE", device.toString()));
        if (r.code() == 2 && r.out().isBlank()) {
            return Optional.empty(); // no signature found: blank
        }
        if (!r.ok()) {
            throw new IllegalStateException(r.describe());
        }
        String type = r.out().strip();
        return type.isEmpty() ? Optional.of("unknown") : Optional.of(type);
    }

    public boolean canMake(String fs) {
        return Exec.installed("mkfs." + fs);
    }

    public void mkfs(String fs, Path device) {
        List<String> cmd = switch (fs) {
            case "ext4" -> List.of("mkfs.ext4", "-F", "-q", "-E", "nodiscard", device.toString());
            case "xfs" -> List.of("mkfs.xfs", "-q", "-K", device.toString());
            case "btrfs" -> List.of("mkfs.btrfs", "-q", "-K", device.toString());
            default -> throw new IllegalArgumentException("unsupported filesystem " + fs);
        };
        check(Exec.run(TIMEOUT, cmd));
    }

    public void mount(Path device, Path target, String fs, List<String> options) {
        List<String> cmd = new ArrayList<>(List.of("mount", "-t", fs));
        if (!options.isEmpty()) {
            cmd.add("-o");
            cmd.add(String.join(",", options));
        }
        cmd.add(device.toString());
        cmd.add(target.toString());
        check(Exec.run(TIMEOUT, cmd));
    }

    public void bindMount(Path source, Path target, boolean readOnly) {
        check(Exec.run(TIMEOUT, List.of("mount", "--bind", source.toString(), target.toString())));
        if (readOnly) {
            Exec.Result r = Exec.run(TIMEOUT, List.of("mount", "-o", "remount,bind,ro", target.toString()));
            if (!r.ok()) {
                Exec.run(TIMEOUT, List.of("umount", target.toString())); // never leave a writable mount behind
                check(r);
            }
        }
    }

    public void unmount(Path target) {
        check(Exec.run(TIMEOUT, List.of("umount", target.toString())));
    }

    public void grow(String fs, Path device, Path mountPoint) {
        List<String> cmd = switch (fs) {
            case "ext4", "ext3", "ext2" -> List.of("resize2fs", device.toString());
            case "xfs" -> List.of("xfs_growfs", mountPoint.toString());
            case "btrfs" -> List.of("btrfs", "filesystem", "resize", "max", mountPoint.toString());
            default -> throw new IllegalArgumentException("cannot grow a " + fs + " filesystem");
        };
        check(Exec.run(TIMEOUT, cmd));
    }

    public FsStats statfs(Path path) {
        // %b total blocks, %f free blocks, %a blocks free to non-root, %S fundamental block size, %c inodes, %d free inodes
        Exec.Result r = check(Exec.run(TIMEOUT, List.of("stat", "-f", "-c", "%b %f %a %S %c %d", path.toString())));
        String[] f = r.out().strip().split("\\s+");
        long blocks = Long.parseLong(f[0]);
        long free = Long.parseLong(f[1]);
        long avail = Long.parseLong(f[2]);
        long bsize = Long.parseLong(f[3]);
        return new FsStats(blocks * bsize, avail * bsize, (blocks - free) * bsize, Long.parseLong(f[4]), Long.parseLong(f[5]));
    }

    /** Whether two paths are the same device node (same st_rdev), e.g. a bind-mounted block device and /dev/nvmeXnY. */
    public boolean sameDeviceNode(Path a, Path b) throws IOException {
        return Files.getAttribute(a, "unix:rdev").equals(Files.getAttribute(b, "unix:rdev"));
    }

    /** The mount at exactly this path (the topmost one), if any. */
    public Optional<Mount> mountAt(Path path) {
        Mount found = null;
        for (Mount m : mounts()) {
            if (m.mountPoint().equals(path)) {
                found = m;
            }
        }
        return Optional.ofNullable(found);
    }

    public List<Mount> mounts() {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/mountinfo"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Mount> out = new ArrayList<>();
        for (String line : lines) {
            // id parent major:minor root mountpoint options [optional...] - fstype source superopts
            String[] halves = line.split(" - ", 2);
            String[] a = halves[0].split(" ");
            String[] b = halves.length > 1 ? halves[1].split(" ") : new String[] {"", ""};
            out.add(new Mount(a[2], unescape(a[3]), Path.of(unescape(a[4])), a[5], b[0], b.length > 1 ? unescape(b[1]) : ""));
        }
        return out;
    }

    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }

    private static Exec.Result check(Exec.Result r) {
        if (!r.ok()) {
            throw new IllegalStateException(r.describe());
        }
        return r;
    }
}
