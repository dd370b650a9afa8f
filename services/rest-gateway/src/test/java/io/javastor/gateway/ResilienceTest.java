package io.javastor.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.testsupport.FreePorts;
import io.javastor.testsupport.CoreAgentProcess;
import io.javastor.gateway.coreclient.CoreAgentClient;
import io.javastor.gateway.testsupport.RunningGateway;
import io.javastor.gateway.testsupport.RunningGateway.Reply;

/**
 * The gateway in front of a core agent that is down, comes back, hangs, and recovers, with two
 * configured addresses of which only one ever has an agent (the other is a dead replica).
 */
class ResilienceTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    private static final Duration CALL_TIMEOUT = Duration.ofMillis(1500);
    private static Path dir;
    private static CoreAgentProcess agent;
    private static RunningGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        CoreAgentProcess.jar();
        dir = Files.createTempDirectory("javastor-rest-resilience-");
        agent = new CoreAgentProcess(etcd.endpoint(), "resilience", dir);
        String deadReplica = "127.0.0.1:" + FreePorts.next();
        gateway = RunningGateway.start(deadReplica + "," + agent.address(), Map.of(
                "javastor.gateway.core-agent.call-timeout", CALL_TIMEOUT.toMillis() + "ms",
                "resilience4j.circuitbreaker.instances.core-agent.wait-duration-in-open-state", "1s",
                "resilience4j.circuitbreaker.instances.core-agent.minimum-number-of-calls", "4",
                "resilience4j.circuitbreaker.instances.core-agent.sliding-window-size", "4",
                "resilience4j.bulkhead.instances.core-agent.max-concurrent-calls", "2"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        if (agent != null) {
            agent.close();
        }
        if (dir != null) {
            try (var paths = Files.walk(dir)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void expectUnavailableWithinTimeout(Reply r) {
        assertThat(r.status()).as("%s", r).isEqualTo(503);
        assertThat(r.kind()).isIn("Unavailable", "Timeout");
        // Bounded by the call timeout, not hanging; the slack absorbs a loaded shared machine (seen: 5.9 s at load 40).
        assertThat(r.took()).isLessThan(CALL_TIMEOUT.plusSeconds(6));
    }

    @Test
    void downThenUpThenHungThenUpAgainWithoutRestartingTheGateway() throws Exception {
        // 1. No agent at any address: 503 at once, the gateway itself stays healthy.
        for (int i = 0; i < 6; i++) {
            expectUnavailableWithinTimeout(gateway.get("/v0/nodes"));
        }
        Reply open = gateway.get("/v0/nodes");
        expectUnavailableWithinTimeout(open);
        assertThat(open.json().path("details").asString()).isEqualTo("circuit breaker open");
        assertThat(gateway.get("/actuator/health").status()).isEqualTo(200);
        assertThat(gateway.get("/actuator/health/readiness").status()).isEqualTo(200);

        // 2. The agent starts at the second address: calls succeed again by themselves.
        agent.start();
        await("calls succeed after the agent started").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> gateway.get("/v0/nodes").status() == 200);
        assertThat(gateway.get("/v0/pools").status()).isEqualTo(200);

        // 3. The agent hangs (SIGSTOP): each call answers 503 once its deadline passes; the bulkhead
        //    (2 calls) answers the rest at once instead of tying up server threads.
        agent.freeze();
        try {
            ExecutorService callers = Executors.newFixedThreadPool(6);
            try {
                // Two calls fill the bulkhead (the frozen agent holds them until their deadline); the four sent once it
                // is seen full find it so, however the callers' threads are scheduled.
                Bulkhead bulkhead = gateway.bean(BulkheadRegistry.class).bulkhead(CoreAgentClient.INSTANCE);
                List<Future<Reply>> replies = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    replies.add(callers.submit((Callable<Reply>) () -> gateway.get("/v0/volumes")));
                }
                await("the bulkhead full").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
                        .until(() -> bulkhead.getMetrics().getAvailableConcurrentCalls() == 0);
                for (int i = 0; i < 4; i++) {
                    replies.add(callers.submit((Callable<Reply>) () -> gateway.get("/v0/volumes")));
                }
                List<String> details = new ArrayList<>();
                for (Future<Reply> f : replies) {
                    Reply r = f.get();
                    expectUnavailableWithinTimeout(r);
                    details.add(r.json().path("details").asString());
                }
                assertThat(details).contains("bulkhead full");
            } finally {
                callers.shutdownNow();
            }
            assertThat(gateway.get("/actuator/health").status()).isEqualTo(200);
        } finally {
            agent.thaw();
        }
        await("calls succeed after the agent resumed").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> gateway.get("/v0/nodes").status() == 200);

        // 4. The agent stops: 503 within the timeout; started again, calls succeed again.
        agent.stop();
        expectUnavailableWithinTimeout(gateway.get("/v0/nodes"));
        agent.start();
        await("calls succeed after the agent restarted").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> gateway.get("/v0/nodes").status() == 200);
    }
}
