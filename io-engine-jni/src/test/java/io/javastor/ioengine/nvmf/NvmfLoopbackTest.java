package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.nvmf.tgt.NvmfTargetOptions;
import io.javastor.ioengine.nvmf.tgt.Subsystem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Our initiator against our target over loopback, on a RAM disk. */
class NvmfLoopbackTest {
    static final String NQN = "nqn.2019-05.io.javastor:loopback-test";
    static final String HOST = "nqn.2019-05.io.javastor:node-name:test-host";

    BlockDeviceFactory factory;
    BlockDevice disk;
    NvmfTarget target;
    int port;

    @BeforeEach
    void start() {
        factory = BlockDeviceFactory.withDefaults();
        disk = factory.open("malloc:///nvmf-loop?size_mb=64");
        // A small MAXH2CDATA so 1 MiB writes take several R2Ts.
        target = new NvmfTarget(NvmfTargetOptions.defaults().withMaxH2cData(64 * 1024).withEventLoopThreads(2));
        port = target.start("127.0.0.1", 0).getPort();
        target.addSubsystem(NQN, disk, "JS0001", "Javastor test", Set.of());
    }

    @AfterEach
    void stop() {
        target.close();
        disk.close();
        factory.close();
    }

    String uri() {
        return "nvmf://127.0.0.1:" + port + "/" + NQN;
    }

    static ByteBuffer random(int len, long seed) {
        ByteBuffer b = DmaBuffers.allocate(len);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i + 8 <= len; i += 8) {
            b.putLong(i, r.nextLong());
        }
        return b;
    }

    @ParameterizedTest(name = "header digest {0}, data digest {1}")
    @CsvSource({"false,false", "true,true", "true,false", "false,true"})
    void identifyAndEveryIoCommand(boolean hdgst, boolean ddgst) {
        NvmfHostOptions o = NvmfHostOptions.defaults(HOST).withQueues(3, 64).withDigests(hdgst, ddgst);
        try (NvmfBlockDevice dev = NvmfBlockDevice.connect(uri(), o)) {
            assertThat(dev.size()).isEqualTo(64L << 20);
            assertThat(dev.blockSize()).isEqualTo(disk.blockSize());
            assertThat(dev.serial()).isEqualTo("JS0001");
            assertThat(dev.model()).isEqualTo("Javastor test");
            assertThat(dev.ioQueueCount()).isEqualTo(3);
            assertThat(target.subsystem(NQN).controllers()).hasSize(1);

            // 4 KiB (in-capsule), 64 KiB (one R2T), 1 MiB (16 R2Ts of 64 KiB), 3 MiB (split by MDTS)
            long offset = 0;
            for (int len : new int[] {4096, 65536, 1 << 20, 3 << 20}) {
                ByteBuffer data = random(len, len);
                dev.write(offset, data).join();
                ByteBuffer back = DmaBuffers.allocate(len);
                dev.read(offset, back).join();
                assertThat(back).isEqualTo(data);
                ByteBuffer local = DmaBuffers.allocate(len);
                disk.read(offset, local).join();
                assertThat(local).isEqualTo(data);
                offset += len;
            }
            dev.flush().join();
            dev.writeZeroes(4096, 65536).join();
            ByteBuffer z = DmaBuffers.allocate(65536);
            dev.read(4096, z).join();
            assertThat(z).isEqualTo(DmaBuffers.allocate(65536));
            dev.unmap(0, 1 << 20).join();
            assertThatThrownBy(() -> dev.read(dev.size(), DmaBuffers.allocate(4096)).join())
                    .hasCauseInstanceOf(BlockIoException.class);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> target.subsystem(NQN).controllers().isEmpty());
    }

    @Test
    void queueDepthUpToMqesOnManyQueues() {
        int queues = 4;
        int depth = target.options().queueEntries();
        NvmfHostOptions o = NvmfHostOptions.defaults(HOST).withQueues(queues, depth);
        try (NvmfBlockDevice dev = NvmfBlockDevice.connect(uri(), o)) {
            assertThat(dev.ioQueueCount()).isEqualTo(queues);
            int n = queues * depth + 100; // more than fits: the rest wait for free command ids
            List<ByteBuffer> bufs = new ArrayList<>();
            List<CompletableFuture<Void>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ByteBuffer b = random(4096, i);
                bufs.add(b);
                fs.add(dev.write((long) i * 4096, b));
            }
            CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).orTimeout(30, TimeUnit.SECONDS).join();
            fs.clear();
            List<ByteBuffer> back = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ByteBuffer b = DmaBuffers.allocate(4096);
                back.add(b);
                fs.add(dev.read((long) i * 4096, b));
            }
            CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).orTimeout(30, TimeUnit.SECONDS).join();
            for (int i = 0; i < n; i++) {
                assertThat(back.get(i)).as("block %d", i).isEqualTo(bufs.get(i));
            }
        }
    }

    @Test
    void hostNotOnTheAllowedListIsRefusedAtConnect() {
        target.addSubsystem(NQN, disk, "JS0001", "Javastor test", Set.of("nqn.2019-05.io.javastor:node-name:other"));
        assertThatThrownBy(() -> NvmfBlockDevice.connect(uri(), NvmfHostOptions.defaults(HOST)))
                .isInstanceOf(BlockIoException.class).hasMessageContaining("sc=0x84").hasMessageContaining("not allowed");
        try (NvmfBlockDevice ok = NvmfBlockDevice.connect(uri(), NvmfHostOptions.defaults("nqn.2019-05.io.javastor:node-name:other"))) {
            assertThat(ok.size()).isEqualTo(64L << 20);
        }
    }

    @Test
    void unknownSubsystemIsRefused() {
        assertThatThrownBy(() -> NvmfBlockDevice.connect("nvmf://127.0.0.1:" + port + "/nqn.2019-05.io.javastor:nope",
                NvmfHostOptions.defaults(HOST))).isInstanceOf(BlockIoException.class).hasMessageContaining("sc=0x82")
                // ... without Do Not Retry: a volume's subsystem is absent only until its target is re-created
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(" dnr"));
    }

    @Test
    void removingTheSubsystemDisconnectsAndTheHostReconnectsWhenItIsBack() {
        NvmfHostOptions o = NvmfHostOptions.defaults(HOST).withReconnectDeadline(Duration.ofSeconds(20));
        try (NvmfBlockDevice dev = NvmfBlockDevice.connect(uri(), o)) {
            ByteBuffer data = random(4096, 7);
            dev.write(0, data).join();
            int first = dev.controllerId();
            assertThat(target.removeSubsystem(NQN)).isTrue();
            target.addSubsystem(NQN, disk, "JS0001", "Javastor test", Set.of());
            await().atMost(Duration.ofSeconds(15)).until(() -> target.subsystem(NQN).controllers().size() == 1
                    && dev.controllerId() != first);
            ByteBuffer back = DmaBuffers.allocate(4096);
            dev.read(0, back).orTimeout(10, TimeUnit.SECONDS).join();
            assertThat(back).isEqualTo(data);
        }
    }

    @Test
    void subsystemApiValidates() {
        assertThatThrownBy(() -> target.addSubsystem("bad", disk, "s", "m", Set.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> target.addSubsystem(Subsystem.DISCOVERY_NQN, disk, "s", "m", Set.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(target.removeSubsystem("nqn.2019-05.io.javastor:none")).isFalse();
        assertThat(target.subsystems()).extracting(Subsystem::nqn).containsExactly(NQN);
    }
}
