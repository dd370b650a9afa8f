package io.javastor.operator.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.cloud.kubernetes.commons.leader.election.events.NewLeaderEvent;
import org.springframework.cloud.kubernetes.commons.leader.election.events.StartLeadingEvent;
import org.springframework.cloud.kubernetes.commons.leader.election.events.StopLeadingEvent;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;

/**
 * Two operators on one (mock) API server compete for the Lease as Spring Cloud Kubernetes' leader election says:
 * exactly one gets StartLeadingEvent and runs the DiskPool controller; when it stops, it hands the Lease back and the
 * other takes over.
 */
@EnableKubernetesMockClient(crud = true)
class LeaderElectionTest {
    /** Longer than any wait below: the standby can only lead in time if the leader hands the Lease back. */
    private static final Duration LEASE_DURATION = Duration.ofSeconds(40);

    static KubernetesMockServer server;
    static KubernetesClient client;

    private OperatorApp first;
    private OperatorApp second;

    @BeforeAll
    static void crd() {
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(OperatorApp.NAMESPACE).endMetadata().build())
                .createOr(r -> r.update());
        client.apiextensions().v1().customResourceDefinitions().load(Path.of(System.getProperty("javastor.test.crd")).toFile()).create();
    }

    @AfterEach
    void stop() {
        for (OperatorApp app : new OperatorApp[] { first, second }) {
            if (app != null && app.context.isActive()) {
                app.close();
            }
        }
    }

    private static Lease lease() {
        return client.leases().inNamespace(OperatorApp.NAMESPACE).withName("javastor-diskpool-operator").get();
    }

    @Test
    void exactlyOneLeadsAndTheOtherTakesOverWhenItStops() {
        Map<String, String> lease = Map.of("spring.cloud.kubernetes.leader.election.lease-duration", LEASE_DURATION.toSeconds() + "s");
        first = OperatorApp.inKubernetes(client, "op-1", lease);
        second = OperatorApp.inKubernetes(client, "op-2", lease);

        await("a leader").atMost(Duration.ofSeconds(30)).until(() -> first.runner().active() || second.runner().active());
        OperatorApp leader = first.runner().active() ? first : second;
        OperatorApp standby = leader == first ? second : first;
        String leaderId = leader.runner().identity();
        // Both hear who leads; give the standby a few retry periods to prove it does not start too.
        await("both know the leader").atMost(Duration.ofSeconds(10)).until(() -> leaderId.equals(standby.runner().leader())
                && leaderId.equals(leader.runner().leader()));
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10)).until(() -> !standby.runner().active());

        assertThat(leader.events(StartLeadingEvent.class)).extracting(StartLeadingEvent::candidateIdentity).containsExactly(leaderId);
        assertThat(standby.events(StartLeadingEvent.class)).isEmpty();
        assertThat(standby.events(NewLeaderEvent.class)).extracting(NewLeaderEvent::candidateIdentity).contains(leaderId);
        assertThat(leader.runner().watching()).as("the leader's DiskPool controller watches").isTrue();
        assertThat(lease().getSpec().getHolderIdentity()).isEqualTo(leaderId);

        leader.close();
        // The Lease was handed back on the way out, not left to expire: once the leader has stopped, it holds it no more.
        assertThat(lease().getSpec().getHolderIdentity()).as("the Lease's holder once the leader stopped").isNotEqualTo(leaderId);
        await("the standby leads").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> standby.runner().active());

        List<String> started = standby.events(StartLeadingEvent.class).stream().map(StartLeadingEvent::candidateIdentity).toList();
        assertThat(started).containsExactly(standby.runner().identity());
        assertThat(standby.runner().watching()).isTrue();
        assertThat(lease().getSpec().getHolderIdentity()).isEqualTo(standby.runner().identity());
        // The old leader said it stopped leading (released the Lease on the way out).
        assertThat(leader.events(StopLeadingEvent.class)).extracting(StopLeadingEvent::candidateIdentity).containsExactly(leaderId);
    }
}
