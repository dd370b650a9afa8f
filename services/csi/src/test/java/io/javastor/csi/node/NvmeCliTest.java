package io.javastor.csi.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalLong;

import org.junit.jupiter.api.Test;

/**
 * Reading nvme-cli's JSON of an Identify Namespace (the VM test reads the real one from the kernel's path); the
 * fields are the spec's: NSZE in logical blocks, FLBAS selecting the format, LBADS its block size as a power of two.
 */
class NvmeCliTest {

    @Test
    void theSizeIsNszeBlocksOfTheFormatInUse() {
        String json = """
                {"nsze":163840,"ncap":163840,"nuse":163840,"nsfeat":0,"nlbaf":1,"flbas":1,
                 "lbafs":[{"ms":0,"ds":9,"rp":0},{"ms":0,"ds":12,"rp":0}]}""";
        assertThat(NvmeCli.identifyNamespaceBytes(json)).isEqualTo(OptionalLong.of(163840L * 4096));
        String fiveTwelve = json.replace("\"flbas\":1", "\"flbas\":16"); // bit 4 (metadata at the end of the LBA) is not an index bit
        assertThat(NvmeCli.identifyNamespaceBytes(fiveTwelve)).isEqualTo(OptionalLong.of(163840L * 512));
    }

    @Test
    void whatCannotBeReadIsNoAnswer() {
        assertThat(NvmeCli.identifyNamespaceBytes("not json")).isEmpty();
        assertThat(NvmeCli.identifyNamespaceBytes("{\"nsze\":10,\"flbas\":0}")).as("no formats").isEmpty();
        assertThat(NvmeCli.identifyNamespaceBytes("{\"nsze\":10,\"flbas\":3,\"lbafs\":[{\"ds\":9}]}")).as("format out of the list").isEmpty();
        assertThat(NvmeCli.identifyNamespaceBytes("{\"nsze\":10,\"flbas\":0,\"lbafs\":[{\"ds\":0}]}")).as("format not in use").isEmpty();
    }
}
