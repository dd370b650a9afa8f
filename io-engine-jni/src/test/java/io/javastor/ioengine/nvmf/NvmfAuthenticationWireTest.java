package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.device.IoOutcomes;
import io.javastor.ioengine.nvmf.auth.DhchapKeys;
import io.javastor.ioengine.nvmf.auth.DhchapSecret;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import io.javastor.ioengine.nvmf.pdu.NvmeCommand;
import io.javastor.ioengine.nvmf.pdu.NvmeOpcode;
import io.javastor.ioengine.nvmf.pdu.NvmeStatus;
import io.javastor.ioengine.nvmf.pdu.Pdu;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.nvmf.tgt.NvmfTargetOptions;
import io.javastor.ioengine.reservation.NamespaceReservations;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * NVMe in-band authentication on the wire (issue 16): our target asks for DH-HMAC-CHAP on every queue of a host it
 * holds a secret for, and our host answers; a host without the secret, with a wrong one, or another host cannot
 * connect, and a queue that has not authenticated gets nothing but the exchange. The Linux host's side is in the VM
 * test (CSI module).
 */
class NvmfAuthenticationWireTest {
    static final String NQN = "nqn.2019-05.io.javastor:auth-wire-test";
    static final String HOST = "nqn.2019-05.io.javastor:node-name:node-1";
    static final String OTHER_HOST = "nqn.2019-05.io.javastor:node-name:node-2";
    static final SecureRandom RANDOM = new SecureRandom();

    BlockDeviceFactory factory;
    BlockDevice disk;
    NvmfTarget target;
    String uri;
    int port;
    DhchapSecret hostSecret = DhchapSecret.generate(RANDOM);
    DhchapSecret controllerSecret = DhchapSecret.generate(RANDOM);

    @BeforeEach
    void start() {
        factory = BlockDeviceFactory.withDefaults();
        disk = factory.open("malloc:///nvmf-auth-wire?size_mb=16");
        target = new NvmfTarget(NvmfTargetOptions.defaults().withEventLoopThreads(2));
        port = target.start("127.0.0.1", 0).getPort();
        target.addSubsystem(NQN, disk, "AUTH1", "Javastor auth", Set.of(HOST), NamespaceReservations.inMemory(NQN),
                Map.of(HOST, new DhchapKeys(hostSecret, controllerSecret)));
        uri = "nvmf://127.0.0.1:" + port + "/" + NQN;
    }

    @AfterEach
    void stop() {
        target.close();
        disk.close();
        factory.close();
    }

    private static NvmfHostOptions host(String nqn, DhchapKeys keys) {
        return NvmfHostOptions.defaults(nqn).withQueues(2, 32).withDhchap(keys);
    }

    @Test
    void aHostWithItsSecretConnectsEveryQueueAndItsIoWorks() {
        try (NvmfBlockDevice dev = NvmfBlockDevice.connect(uri, host(HOST, new DhchapKeys(hostSecret, null)))) {
            dev.write(4096, IoOutcomes.filled(4096, 0x5A)).join();
            ByteBuffer back = DmaBuffers.allocate(4096);
            dev.read(4096, back).join();
            assertThat(back.get(100)).isEqualTo((byte) 0x5A);
        }
    }

    @Test
    void bothWaysTheHostAlsoChecksTheController() {
        try (NvmfBlockDevice dev = NvmfBlockDevice.connect(uri, host(HOST, new DhchapKeys(hostSecret, controllerSecret)))) {
            dev.write(0, IoOutcomes.filled(4096, 0x11)).join();
        }
        DhchapKeys wrongController = new DhchapKeys(hostSecret, DhchapSecret.generate(RANDOM));
        assertThatThrownBy(() -> NvmfBlockDevice.connect(uri, host(HOST, wrongController)))
                .isInstanceOfSatisfying(BlockIoException.class, e -> assertThat(e.errno()).isEqualTo(BlockIoException.EACCES))
                .hasMessageContaining("controller's response does not match");
    }

    @Test
    void aWrongSecretOrNoneOrAnotherHostCannotConnectAndWritesNothing() {
        ByteBuffer before = DmaBuffers.allocate(4096);
        disk.read(0, before).join();
        assertThatThrownBy(() -> NvmfBlockDevice.connect(uri, host(HOST, new DhchapKeys(DhchapSecret.generate(RANDOM), null))))
                .isInstanceOfSatisfying(BlockIoException.class, e -> assertThat(e.errno()).isEqualTo(BlockIoException.EACCES))
                .hasMessageContaining("wrong or missing secret");
        assertThatThrownBy(() -> NvmfBlockDevice.connect(uri, host(HOST, null)))
                .isInstanceOfSatisfying(BlockIoException.class, e -> assertThat(e.errno()).isEqualTo(BlockIoException.EACCES))
                .hasMessageContaining("requires in-band authentication");
        // The right secret under another host's name: that host is not allowed at all.
        assertThatThrownBy(() -> NvmfBlockDevice.connect(uri, host(OTHER_HOST, new DhchapKeys(hostSecret, null))))
                .isInstanceOf(BlockIoException.class).hasMessageContaining("not allowed");
        assertThat(target.subsystem(NQN).controllers()).as("no controller is left behind").isEmpty();
        ByteBuffer after = DmaBuffers.allocate(4096);
        disk.read(0, after).join();
        assertThat(after).isEqualTo(before);
    }

    @Test
    void aQueueThatHasNotAuthenticatedGetsOnlyAuthenticationRequired() throws Exception {
        try (WireClient c = new WireClient(port)) {
            c.initialize();
            c.send(WireClient.connectCapsule(1, NQN, HOST, 10_000));
            Pdu.CapsuleResponse connected = (Pdu.CapsuleResponse) c.receive();
            assertThat(connected.completion().status()).isEqualTo(NvmeStatus.SUCCESS);
            assertThat(connected.completion().dw0() & (1 << 17)).as("AUTHREQ.ATR").isNotZero();

            Pdu.CapsuleResponse identify = c.command(NvmeCommand.of(NvmeOpcode.IDENTIFY, 0, NvmeOpcode.CNS_CONTROLLER, 0, 0, 0, 0, 0).withCid(2));
            assertThat(NvmeStatus.is(identify.completion().status(), NvmeStatus.AUTH_REQUIRED)).as(NvmeStatus.describe(identify.completion().status())).isTrue();
            Pdu.CapsuleResponse property = c.command(NvmeCommand.of(NvmeOpcode.FABRICS, NvmeOpcode.FCTYPE_PROPERTY_SET, 0, 0x14, 1, 0, 0, 0).withCid(3));
            assertThat(NvmeStatus.is(property.completion().status(), NvmeStatus.AUTH_REQUIRED)).as("not even CC.EN").isTrue();
        }
    }

    @Test
    void requiringAuthenticationDisconnectsControllersThatNeverAuthenticated() {
        String open = "nqn.2019-05.io.javastor:auth-wire-open";
        BlockDevice other = factory.open("malloc:///nvmf-auth-wire-open?size_mb=8");
        try {
            target.addSubsystem(open, other, "AUTH2", "Javastor auth", Set.of(HOST), NamespaceReservations.inMemory(open), Map.of());
            String openUri = "nvmf://127.0.0.1:" + port + "/" + open;
            NvmfBlockDevice plain = NvmfBlockDevice.connect(openUri, host(HOST, null).withReconnectDeadline(Duration.ofSeconds(2)));
            try {
                plain.write(0, IoOutcomes.filled(4096, 0x22)).join();
                target.addSubsystem(open, other, "AUTH2", "Javastor auth", Set.of(HOST), NamespaceReservations.inMemory(open),
                        Map.of(HOST, new DhchapKeys(hostSecret, null)));
                await().atMost(Duration.ofSeconds(20)).until(() -> target.subsystem(open).controllers().isEmpty());
                assertThat(IoOutcomes.errnoOf(() -> plain.write(0, IoOutcomes.filled(4096, 0x33)).join()))
                        .as("it cannot come back without the secret").isNotZero();
            } finally {
                plain.close();
            }
            try (NvmfBlockDevice authenticated = NvmfBlockDevice.connect(openUri, host(HOST, new DhchapKeys(hostSecret, null)))) {
                ByteBuffer back = DmaBuffers.allocate(4096);
                authenticated.read(0, back).join();
                assertThat(back.get(0)).isEqualTo((byte) 0x22);
            }
        } finally {
            target.removeSubsystem(open);
            other.close();
        }
    }
}
