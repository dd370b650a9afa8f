package io.javastor.ioengine.pool;

import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.device.DeviceUri;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.List;

/**
 * Which disks this engine may put a pool on (issue 16): paths matching an allow-list of globs (the path as given and,
 * when it exists, the file it resolves to, so a symlink inside an allowed folder cannot lead out of it), and RAM disks
 * up to a size. Nothing else is opened, not even to look for a pool: a request naming {@code /etc/shadow} is refused
 * before any byte of it is read or written.
 *
 * @param allowedPaths glob patterns ({@code /dev/disk/by-id/*}, {@code /var/lib/javastor/**}); empty: no file or device
 * @param mallocMaxMb  the largest {@code malloc://} disk, in MiB; 0: none
 */
public record DiskPolicy(List<String> allowedPaths, long mallocMaxMb) {

    public DiskPolicy {
        allowedPaths = List.copyOf(allowedPaths);
        for (String glob : allowedPaths) {
            if (!glob.startsWith("/")) {
                throw new IllegalArgumentException("disk allow-list entry '" + glob + "' must be an absolute path glob");
            }
        }
        if (mallocMaxMb < 0) {
            throw new IllegalArgumentException("malloc-max-mb must be >= 0, got " + mallocMaxMb);
        }
    }

    /** Files and devices below {@code dir} (any depth), and RAM disks up to {@code mallocMaxMb}. */
    public static DiskPolicy below(Path dir, long mallocMaxMb) {
        return new DiskPolicy(List.of(dir.toAbsolutePath().normalize() + "/**"), mallocMaxMb);
    }

    /** Refuses (INVALID_ARGUMENT on the field {@code disks}, naming the rule) a disk this engine may not use. */
    public void check(String diskUri) {
        DeviceUri uri;
        try {
            uri = DeviceUri.parse(diskUri);
        } catch (IllegalArgumentException e) {
            throw EngineException.invalid("disks", e.getMessage());
        }
        if (uri instanceof DeviceUri.Malloc m) {
            if (m.sizeMb() > mallocMaxMb) {
                throw EngineException.invalid("disks", "disk '" + diskUri + "': a malloc disk of " + m.sizeMb() + " MiB exceeds this engine's "
                        + "limit of " + mallocMaxMb + " MiB (javastor.io-engine.disk-policy.malloc-max-mb)");
            }
            return;
        }
        Path path = ((DeviceUri.Uring) uri).path();
        Path normal = path.toAbsolutePath().normalize();
        if (!normal.equals(path)) {
            throw EngineException.invalid("disks", "disk '" + diskUri + "': the path must be absolute and normalized (no '.', '..' or '//'), "
                    + "e.g. " + normal);
        }
        if (!allowed(normal)) {
            throw EngineException.invalid("disks", "disk '" + diskUri + "' is not on this engine's disk allow-list " + allowedPaths
                    + " (javastor.io-engine.disk-policy.allowed-paths)");
        }
        if (Files.exists(normal)) {
            Path real;
            try {
                real = normal.toRealPath();
            } catch (IOException e) {
                throw EngineException.invalid("disks", "disk '" + diskUri + "': cannot resolve " + normal + ": " + e.getMessage());
            }
            if (!allowed(real)) {
                throw EngineException.invalid("disks", "disk '" + diskUri + "' resolves to " + real + ", which is not on this engine's disk "
                        + "allow-list " + allowedPaths);
            }
        }
    }

    private boolean allowed(Path p) {
        for (String glob : allowedPaths) {
            PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + glob);
            if (m.matches(p)) {
                return true;
            }
        }
        return false;
    }
}
