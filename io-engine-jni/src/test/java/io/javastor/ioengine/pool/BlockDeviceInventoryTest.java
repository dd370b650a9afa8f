package io.javastor.ioengine.pool;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The node's block devices as operators see them, on real loop devices: what each holds and whether a pool may go there. */
class BlockDeviceInventoryTest {
    @TempDir
    Path dir;
    private final List<String> loops = new ArrayList<>();

    @AfterEach
    void detach() throws Exception {
        for (String l : loops) {
            run("losetup", "-d", l);
        }
    }

    @Test
    void aBlankAllowedDiskIsAvailableAndOneWithAFilesystemOrOffTheListSaysWhyNot() throws Exception {
        String blank = loop(file("blank.img"));
        Path ext4 = file("ext4.img");
        String mkfs = run("mkfs.ext4", "-q", "-F", ext4.toString());
        assumeTrue(mkfs != null, "skipped: mkfs.ext4 (e2fsprogs) is not available");
        String formatted = loop(ext4);

        BlockDeviceInventory inventory = new BlockDeviceInventory(new DiskPolicy(List.of("/dev/loop*"), 0));
        List<BlockDeviceInventory.Device> all = inventory.list(true);
        BlockDeviceInventory.Device b = find(all, blank);
        assertThat(b.available()).as("%s: %s", blank, b.reason()).isTrue();
        assertThat(b.size()).isEqualTo(64L << 20);
        assertThat(b.devtype()).isEqualTo("disk");
        BlockDeviceInventory.Device f = find(all, formatted);
        assertThat(f.available()).isFalse();
        assertThat(f.filesystem()).isEqualTo("an ext2/3/4 filesystem");
        assertThat(f.reason()).isEqualTo("holds an ext2/3/4 filesystem");
        assertThat(inventory.list(false)).extracting(BlockDeviceInventory.Device::devname).contains(blank).doesNotContain(formatted);

        BlockDeviceInventory strict = new BlockDeviceInventory(new DiskPolicy(List.of("/dev/disk/by-id/*"), 0));
        BlockDeviceInventory.Device off = find(strict.list(true), blank);
        assertThat(off.available()).isFalse();
        assertThat(off.reason()).startsWith("not on this engine's disk allow-list");
    }

    /** A mounted disk is in use: the inventory says where, and a pool is refused even when told to erase (O_EXCL). */
    @Test
    void aMountedDiskIsListedAsSuchAndNoPoolGoesOnItEvenWhenToldToErase() throws Exception {
        Path image = file("mounted.img");
        assumeTrue(run("mkfs.ext4", "-q", "-F", image.toString()) != null, "skipped: mkfs.ext4 (e2fsprogs) is not available");
        String dev = loop(image);
        Path mnt = java.nio.file.Files.createDirectories(dir.resolve("mnt"));
        assumeTrue(run("mount", dev, mnt.toString()) != null, "skipped: cannot mount " + dev + " (needs root and ext4)");
        try {
            BlockDeviceInventory.Device d = find(new BlockDeviceInventory(new DiskPolicy(List.of("/dev/loop*"), 0)).list(true), dev);
            assertThat(d.available()).isFalse();
            assertThat(d.mountpoint()).isEqualTo(mnt.toString());
            assertThat(d.reason()).isEqualTo("mounted at " + mnt);

            try (io.javastor.ioengine.device.BlockDeviceFactory devices = io.javastor.ioengine.device.BlockDeviceFactory.withDefaults();
                 PoolRegistry registry = new PoolRegistry(devices, 2.0, new DiskPolicy(List.of("/dev/loop*"), 0))) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> registry.createPool("p", List.of("uring://" + dev), 0, true))
                        .isInstanceOf(io.javastor.ioengine.EngineException.class).hasMessageContaining("the device is in use");
                assertThat(registry.pools()).isEmpty();
            }
            assertThat(run("sh", "-c", "ls " + mnt)).as("the mounted filesystem is still readable").isNotNull();
        } finally {
            run("umount", mnt.toString());
        }
    }

    private static BlockDeviceInventory.Device find(List<BlockDeviceInventory.Device> all, String devname) {
        return all.stream().filter(d -> d.devname().equals(devname)).findFirst()
                .orElseThrow(() -> new AssertionError(devname + " not listed among " + all.stream().map(BlockDeviceInventory.Device::devname).toList()));
    }

    private Path file(String name) throws IOException {
        Path f = dir.resolve(name);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(64L << 20);
        }
        return f;
    }

    private String loop(Path file) throws Exception {
        String dev = run("losetup", "-f", "--show", file.toString());
        assumeTrue(dev != null && dev.startsWith("/dev/loop"), "skipped: no loop device could be attached (losetup needs root and loop support)");
        loops.add(dev.trim());
        return dev.trim();
    }

    /** Output of a successful command, or null when it could not run or failed. */
    private static String run(String... cmd) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0 ? out.trim() : null;
        } catch (IOException e) {
            return null;
        }
    }
}
