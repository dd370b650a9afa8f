package io.javastor.core.nvmeauth;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.javastor.api.ioengine.v1.DhchapSecrets;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.ioengine.nvmf.auth.DhchapSecret;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The link secrets against a real etcd: one cluster key however many agents race to create it, the same secrets for a
 * link after a restart (a re-created share must match the secrets its nexus still holds), other secrets for every other
 * link, in the representation the io-engine (and `nvme connect`) accepts, and nowhere among the specs.
 */
class NvmeSecretsTest {
    static final String HOST_1 = "nqn.2019-05.io.javastor:node-name:node-1";
    static final String HOST_2 = "nqn.2019-05.io.javastor:node-name:node-2";
    static final String REPLICA_A = "0e4b1a3c-6b43-4d59-9c1e-1f0c3c1a0001";
    static final String REPLICA_B = "0e4b1a3c-6b43-4d59-9c1e-1f0c3c1a0002";

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    Client client;
    String cluster;

    @BeforeEach
    void connect(TestInfo info) {
        client = etcd.client();
        cluster = "link-secrets-" + info.getTestMethod().orElseThrow().getName();
    }

    @AfterEach
    void close() {
        client.close();
    }

    private NvmeSecrets agent() {
        return new NvmeSecrets(client.getKVClient(), cluster, 5000, true, true);
    }

    @Test
    void agentsRacingGetOneKeyAndTheSameSecretsForALink() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Callable<DhchapSecrets>> racers = List.of(
                    () -> agent().forLink(REPLICA_A, HOST_1), () -> agent().forLink(REPLICA_A, HOST_1),
                    () -> agent().forLink(REPLICA_A, HOST_1), () -> agent().forLink(REPLICA_A, HOST_1));
            Set<DhchapSecrets> seen = pool.invokeAll(racers).stream().map(NvmeSecretsTest::get).collect(Collectors.toSet());
            assertThat(seen).hasSize(1);
            assertThat(agent().forLink(REPLICA_A, HOST_1)).as("an agent started later").isEqualTo(seen.iterator().next());
        } finally {
            pool.shutdownNow();
        }
        long keys = client.getKVClient().get(ByteSequence.from("/javastor/" + cluster + "/secrets/", StandardCharsets.UTF_8),
                io.etcd.jetcd.options.GetOption.builder().isPrefix(true).build()).get().getCount();
        assertThat(keys).isEqualTo(1);
    }

    private static DhchapSecrets get(Future<DhchapSecrets> f) {
        try {
            return f.get();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void everyLinkHasItsOwnSecretsBothWaysInTheIoEnginesRepresentation() {
        NvmeSecrets s = agent();
        DhchapSecrets a1 = s.forLink(REPLICA_A, HOST_1);
        DhchapSecrets a2 = s.forLink(REPLICA_A, HOST_2);
        DhchapSecrets b1 = s.forLink(REPLICA_B, HOST_1);
        assertThat(Set.of(a1.getHostSecret(), a1.getControllerSecret(), a2.getHostSecret(), a2.getControllerSecret(),
                b1.getHostSecret(), b1.getControllerSecret())).hasSize(6);
        for (String secret : List.of(a1.getHostSecret(), a1.getControllerSecret(), b1.getHostSecret())) {
            assertThat(secret).startsWith("DHHC-1:01:");
            assertThat(DhchapSecret.parse(secret).text()).isEqualTo(secret);
        }
    }

    @Test
    void everyVolumeAndHostHasItsOwnPairApartFromTheLinks() {
        NvmeSecrets s = agent();
        DhchapSecrets v1 = s.forHost(REPLICA_A, HOST_1);
        DhchapSecrets v2 = s.forHost(REPLICA_A, HOST_2);
        DhchapSecrets link = s.forLink(REPLICA_A, HOST_1);
        assertThat(Set.of(v1.getHostSecret(), v1.getControllerSecret(), v2.getHostSecret(), v2.getControllerSecret(),
                link.getHostSecret(), link.getControllerSecret())).as("a volume's host pair is no link's pair").hasSize(6);
        assertThat(agent().forHost(REPLICA_A, HOST_1)).as("the same pair after a restart or a move").isEqualTo(v1);
        assertThat(new NvmeSecrets(client.getKVClient(), cluster, 5000, true, false).forHost(REPLICA_A, HOST_1)).as("hosts off").isNull();
    }

    @Test
    void offMeansNoSecretsAndNoKey() throws Exception {
        NvmeSecrets off = new NvmeSecrets(client.getKVClient(), cluster, 5000, false, false);
        assertThat(off.forLink(REPLICA_A, HOST_1)).isNull();
        assertThat(client.getKVClient().get(ByteSequence.from("/javastor/" + cluster + "/secrets/nvme-link-key", StandardCharsets.UTF_8))
                .get().getCount()).isZero();
    }

    @Test
    void theKeyIsNotAmongTheSpecsTheApiServes() throws Exception {
        agent().forLink(REPLICA_A, HOST_1);
        long underSpecs = client.getKVClient().get(ByteSequence.from("/javastor/" + cluster + "/specs/", StandardCharsets.UTF_8),
                io.etcd.jetcd.options.GetOption.builder().isPrefix(true).build()).get().getCount();
        assertThat(underSpecs).as("the REST API serves what is under specs/").isZero();
    }
}
