package io.javastor.csi.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The options the node plugin writes to /dev/nvme-fabrics. The kernel taking them (and the secrets reaching its
 * controller) is checked in the VM: NodePluginVmTest reads dhchap_secret back from the plugin's controller in sysfs.
 */
class FabricsConnectTest {
    private static final NvmeCli.Target TARGET = new NvmeCli.Target("10.0.0.7", 8420, "nqn.2019-05.io.javastor:vol-1");
    private static final String HOST = "nqn.2019-05.io.javastor:node-name:node-a";
    private static final String HOST_SECRET = "DHHC-1:01:3ZmUmdXgGq3ti6u6fyrr3eF9aGVXSgzKGZPkI6xCKs3Iebpu:";
    private static final String CTRL_SECRET = "DHHC-1:01:xsG2Z1qAFYkSyItWhXTT0BqOMKtZ6AS8gmy1efV3ICG7Zmd6:";

    @Test
    void optionsNameTheTargetTheHostAndBothSecretsByTheKernelsKeys() {
        var c = new FabricsConnect(TARGET, HOST, 1800, 2, Optional.of(new HostSecrets.Pair(HOST_SECRET, CTRL_SECRET)));
        assertThat(c.options().split(",")).containsExactly("transport=tcp", "traddr=10.0.0.7", "trsvcid=8420",
                "nqn=nqn.2019-05.io.javastor:vol-1", "ctrl_loss_tmo=1800", "reconnect_delay=2", "hostnqn=" + HOST,
                "hostid=" + java.util.UUID.nameUUIDFromBytes(HOST.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                "dhchap_secret=" + HOST_SECRET, "dhchap_ctrl_secret=" + CTRL_SECRET);
        // Same host NQN, same host id: every path of the node presents one identity.
        assertThat(new FabricsConnect(TARGET, HOST, 5, 1, Optional.empty()).options()).contains(c.options().split(",")[7])
                .doesNotContain("dhchap");
    }

    @Test
    void aHostSecretAloneAuthenticatesOnlyTheHost() {
        var c = new FabricsConnect(TARGET, HOST, 5, 1, Optional.of(new HostSecrets.Pair(HOST_SECRET, "")));
        assertThat(c.options()).endsWith(",dhchap_secret=" + HOST_SECRET).doesNotContain("dhchap_ctrl_secret");
    }

    @Test
    void aValueThatWouldSmuggleInOptionsIsRefusedNamingIt() {
        var sneaky = new NvmeCli.Target("10.0.0.7", 8420, "nqn.2019-05.io.javastor:v,hostnqn=other");
        assertThatThrownBy(() -> new FabricsConnect(sneaky, HOST, 5, 1, Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("',' or control characters")
                .hasMessageContaining("nqn.2019-05.io.javastor:v,hostnqn=other");
        assertThatThrownBy(() -> new FabricsConnect(TARGET, HOST + "\nnqn=x", 5, 1, Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class);
        // A bad secret is refused without showing it.
        assertThatThrownBy(() -> new FabricsConnect(TARGET, HOST, 5, 1, Optional.of(new HostSecrets.Pair(HOST_SECRET + ",x", ""))))
                .isInstanceOf(IllegalArgumentException.class).message().doesNotContain(HOST_SECRET.substring(10, 30));
    }

    @Test
    void secretsStayOutOfItsDescription() {
        var c = new FabricsConnect(TARGET, HOST, 5, 1, Optional.of(new HostSecrets.Pair(HOST_SECRET, CTRL_SECRET)));
        assertThat(c.toString()).contains(TARGET.uri()).contains("DH-HMAC-CHAP").doesNotContain("DHHC");
    }

    @Test
    void aFabricsDeviceThatDoesNotAnswerWithAControllerIsAnError(@TempDir Path dir) throws Exception {
        // A regular file takes the write but has nothing to read back after it: not a connect.
        Path notTheDevice = Files.createFile(dir.resolve("nvme-fabrics"));
        var c = new FabricsConnect(TARGET, HOST, 5, 1, Optional.empty());
        assertThatThrownBy(() -> c.writeTo(notTheDevice)).isInstanceOf(java.io.IOException.class).hasMessageContaining("not instance=N,cntlid=M");
        assertThat(Files.readString(notTheDevice)).isEqualTo(c.options());
    }
}
