package io.javastor.ioengine.pool;

import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.device.BlockDeviceFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Pools only on allowed, unused disks (issue 16, first item): everything else is refused with an error naming the
 * rule, and the file or disk is unchanged (its checksum before and after).
 */
class DiskPolicyTest {
    @TempDir
    Path allowed;
    @TempDir
    Path elsewhere;
    private BlockDeviceFactory devices;
    private PoolRegistry registry;

    @BeforeEach
    void start() {
        devices = BlockDeviceFactory.withDefaults();
        registry = new PoolRegistry(devices, 2.0, DiskPolicy.below(allowed, 64));
    }

    @AfterEach
    void stop() {
        registry.close();
        devices.close();
    }

    @Test
    void aDiskOffTheAllowListIsRefusedUnopenedAndUnchanged() throws Exception {
        Path shadow = Path.of("/etc/shadow");
        assumeTrue(Files.isReadable(shadow), "skipped: /etc/shadow is not readable by this user, so its checksum cannot be compared");
        String before = sha256(shadow);
        long size = Files.size(shadow);
        refused("uring:///etc/shadow?size_mb=64", EngineException.Kind.INVALID_ARGUMENT, "is not on this engine's disk allow-list");
        assertThat(sha256(shadow)).as("/etc/shadow after the refused create").isEqualTo(before);
        assertThat(Files.size(shadow)).isEqualTo(size);

        Path outside = randomFile(elsewhere.resolve("other.img"), 8 << 20);
        String was = sha256(outside);
        refused("uring://" + outside, EngineException.Kind.INVALID_ARGUMENT, "allow-list");
        assertThatThrownBy(() -> registry.importPool("p", List.of("uring://" + outside))).isInstanceOf(EngineException.class)
                .hasMessageContaining("allow-list");
        assertThat(sha256(outside)).isEqualTo(was);
    }

    @Test
    void aPathThatLeavesTheAllowedFolderIsRefused() throws Exception {
        Path target = randomFile(elsewhere.resolve("target.img"), 8 << 20);
        String was = sha256(target);
        Path link = Files.createSymbolicLink(allowed.resolve("link.img"), target);
        refused("uring://" + link, EngineException.Kind.INVALID_ARGUMENT, "resolves to " + target.toRealPath());
        refused("uring://" + allowed + "/../" + elsewhere.getFileName() + "/target.img", EngineException.Kind.INVALID_ARGUMENT,
                "must be absolute and normalized");
        assertThat(sha256(target)).isEqualTo(was);
    }

    @Test
    void aDiskHoldingAFilesystemIsRefusedUnlessTheRequestSaysToEraseIt() throws Exception {
        Path disk = allowed.resolve("ext4.img");
        Files.write(disk, new byte[0]);
        try (var raf = new java.io.RandomAccessFile(disk.toFile(), "rw")) {
            raf.setLength(64L << 20);
        }
        Process mkfs = new ProcessBuilder("mkfs.ext4", "-q", "-F", disk.toString()).redirectErrorStream(true).start();
        assumeTrue(mkfs.waitFor(60, TimeUnit.SECONDS) && mkfs.exitValue() == 0,
                "skipped: mkfs.ext4 (e2fsprogs) is not available to make a filesystem: " + new String(mkfs.getInputStream().readAllBytes()));
        String was = sha256(disk);
        refused("uring://" + disk, EngineException.Kind.FAILED_PRECONDITION, "holds an ext2/3/4 filesystem; pools are created only on unused disks");
        assertThat(sha256(disk)).as("the filesystem image after the refused create").isEqualTo(was);

        Pool p = registry.createPool("p", List.of("uring://" + disk), 0, true);
        assertThat(p.capacityBytes()).isPositive();
        assertThat(sha256(disk)).as("erased as asked").isNotEqualTo(was);
    }

    @Test
    void sizeMbNeverExtendsAnExistingFileAndRamDisksAreCapped() throws Exception {
        Path small = randomFile(allowed.resolve("small.img"), 1 << 20);
        String was = sha256(small);
        assertThatThrownBy(() -> registry.createPool("p", List.of("uring://" + small + "?size_mb=64"), 0)).isInstanceOf(EngineException.class);
        assertThat(Files.size(small)).as("an existing file is not extended to size_mb").isEqualTo(1 << 20);
        assertThat(sha256(small)).isEqualTo(was);

        refused("malloc:///big?size_mb=65", EngineException.Kind.INVALID_ARGUMENT, "exceeds this engine's limit of 64 MiB");
        assertThat(registry.createPool("m", List.of("malloc:///m?size_mb=64"), 0).capacityBytes()).isPositive();
        assertThat(registry.createPool("f", List.of("uring://" + allowed.resolve("new.img") + "?size_mb=32"), 0).capacityBytes())
                .as("a new file in the allowed folder is created at size_mb").isPositive();
    }

    private void refused(String disk, EngineException.Kind kind, String message) {
        assertThatThrownBy(() -> registry.createPool("p", List.of(disk), 0)).isInstanceOfSatisfying(EngineException.class, e -> {
            assertThat(e.kind()).isEqualTo(kind);
            assertThat(e.getMessage()).contains(message);
        });
        assertThat(registry.pools()).as("no pool after a refused create").isEmpty();
    }

    private static Path randomFile(Path f, int size) throws IOException {
        byte[] b = new byte[size];
        new SplittableRandom(f.hashCode()).nextBytes(b);
        return Files.write(f, b);
    }

    private static String sha256(Path f) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
    }
}
