package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.device.IoOutcomes;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import io.javastor.ioengine.nvmf.pdu.AnaState;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.nvmf.tgt.NvmfTargetOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Our NVMe/TCP host follows ANA (issue 14): it reads its path's ANA state at connect and on every ANA change notice,
 * sends no I/O while the path is not accessible (a path error, ENOLINK, which a nexus takes as the child's failure),
 * refuses to connect over an inaccessible path, and serves again once the path is Optimized.
 */
class NvmfHostAnaTest {
    static final String NQN = "nqn.2019-05.io.javastor:host-ana-test";
    static final String HOST = "nqn.2019-05.io.javastor:node-name:node-1";

    BlockDeviceFactory factory;
    BlockDevice disk;
    NvmfTarget target;
    String uri;

    @BeforeEach
    void start() {
        factory = BlockDeviceFactory.withDefaults();
        disk = factory.open("malloc:///nvmf-host-ana?size_mb=16");
        target = new NvmfTarget(NvmfTargetOptions.defaults().withEventLoopThreads(2));
        int port = target.start("127.0.0.1", 0).getPort();
        target.addSubsystem(NQN, disk, "HANA1", "Javastor host ANA", Set.of());
        uri = "nvmf://127.0.0.1:" + port + "/" + NQN;
    }

    @AfterEach
    void stop() {
        target.close();
        disk.close();
        factory.close();
    }

    private byte firstByteOnDisk() {
        ByteBuffer b = DmaBuffers.allocate(disk.blockSize());
        disk.read(0, b).join();
        return b.get(0);
    }

    @Test
    void theHostStopsSendingIoWhenItsPathTurnsInaccessibleAndResumesWhenOptimized() {
        try (NvmfBlockDevice dev = NvmfBlockDevice.connect(uri, NvmfHostOptions.defaults(HOST))) {
            assertThat(dev.anaState()).isEqualTo(AnaState.OPTIMIZED);
            dev.write(0, IoOutcomes.filled(disk.blockSize(), 0x11)).join();

            target.anaState(NQN, AnaState.INACCESSIBLE);
            await("the ANA change notice read").atMost(Duration.ofSeconds(10)).until(dev::anaState, s -> s == AnaState.INACCESSIBLE);
            assertThat(IoOutcomes.errnoOf(() -> dev.write(0, IoOutcomes.filled(disk.blockSize(), 0x22)).join()))
                    .as("a path error, not sent").isEqualTo(BlockIoException.ENOLINK);
            assertThat(IoOutcomes.errnoOf(() -> dev.read(0, DmaBuffers.allocate(disk.blockSize())).join())).isEqualTo(BlockIoException.ENOLINK);
            assertThat(firstByteOnDisk()).isEqualTo((byte) 0x11);

            target.anaState(NQN, AnaState.OPTIMIZED);
            await("back to Optimized").atMost(Duration.ofSeconds(10)).until(dev::anaState, s -> s == AnaState.OPTIMIZED);
            dev.write(0, IoOutcomes.filled(disk.blockSize(), 0x33)).join();
            assertThat(firstByteOnDisk()).isEqualTo((byte) 0x33);
        }
    }

    @Test
    void aPathThatIsInaccessibleAtConnectIsRefusedWithItsState() {
        target.anaState(NQN, AnaState.INACCESSIBLE);
        assertThatThrownBy(() -> NvmfBlockDevice.connect(uri, NvmfHostOptions.defaults(HOST)))
                .isInstanceOfSatisfying(BlockIoException.class, e -> assertThat(e.errno()).isEqualTo(BlockIoException.ENOLINK))
                .hasMessageContaining("ANA state is INACCESSIBLE");
        await().atMost(Duration.ofSeconds(10)).until(() -> target.subsystem(NQN).controllers().isEmpty());
    }
}
