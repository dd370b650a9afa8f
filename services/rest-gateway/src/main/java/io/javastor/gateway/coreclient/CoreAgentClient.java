package io.javastor.gateway.coreclient;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryRegistry;
import io.grpc.ManagedChannel;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.api.tls.ClusterTls;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Every call to the core agent goes through here: a deadline on each call, the leader found among
 * the configured addresses (a non-leader answers UNAVAILABLE, so the next address is tried),
 * retries for idempotent calls only, a circuit breaker that fails fast while the agent is down,
 * and a bulkhead so a slow agent holds at most a bounded number of the server's threads.
 */
@Component
public class CoreAgentClient implements DisposableBean {

    /** The resilience4j instance name (circuit breaker, retry and bulkhead) configured in application.properties. */
    public static final String INSTANCE = "core-agent";

    private final CoreAgentProperties properties;
    private final List<ManagedChannel> channels;
    /** The address that answered last; tried first, so the leader is usually hit at once. */
    private final AtomicInteger preferred = new AtomicInteger();
    private final CircuitBreaker circuitBreaker;
    private final Retry retry;
    private final Bulkhead bulkhead;
    /** Enough for a Service in front of the usual two or three agents to reach the leader within one call. */
    private static final int TRIES_PER_ADDRESS = 3;

    public CoreAgentClient(CoreAgentProperties properties, CircuitBreakerRegistry breakers, RetryRegistry retries,
            BulkheadRegistry bulkheads, Environment env) {
        this.properties = properties;
        // mTLS as rest-gateway (javastor.tls.*): the agent serves its API to this certificate only.
        ClusterTls tls = ClusterTls.fromProperties(env::getProperty, "REST gateway");
        this.channels = properties.addresses().stream()
                // round_robin: one DNS name for every agent (a headless Service) sends each call to the next one.
                .map(a -> tls.channelTo(a.trim(), ClusterPeer.CORE_AGENT).defaultLoadBalancingPolicy("round_robin")
                        // Retries are decided here (idempotent calls only, resilience4j), not inside the channel.
                        .disableRetry().maxInboundMessageSize(64 << 20).build())
                .toList();
        this.circuitBreaker = breakers.circuitBreaker(INSTANCE);
        this.retry = retries.retry(INSTANCE);
        this.bulkhead = bulkheads.bulkhead(INSTANCE);
    }

    /** A call that changes nothing, or sets an absolute value: safe to repeat. */
    public <T> T idempotent(Function<CoreStubs, T> call) {
        return guarded(Retry.decorateSupplier(retry, () -> onLeader(call)));
    }

    /** A call that must not run twice (deletes, publish): never retried. */
    public <T> T once(Function<CoreStubs, T> call) {
        return guarded(() -> onLeader(call));
    }

    private <T> T guarded(Supplier<T> call) {
        return Bulkhead.decorateSupplier(bulkhead, CircuitBreaker.decorateSupplier(circuitBreaker, call)).get();
    }

    /**
     * Tries each address up to {@link #TRIES_PER_ADDRESS} times, starting with the last that answered (an address may
     * name several agents, and round_robin gives each call the next one). Moving on after UNAVAILABLE is safe for any
     * call: a non-leader or an unreachable agent did not act on it.
     */
    private <T> T onLeader(Function<CoreStubs, T> call) {
        int n = channels.size() * TRIES_PER_ADDRESS;
        int first = preferred.get();
        StatusRuntimeException last = null;
        for (int i = 0; i < n; i++) {
            int index = (first + i) % channels.size();
            ManagedChannel channel = channels.get(index);
            try {
                T answer = call.apply(new CoreStubs(channel, properties.callTimeout()));
                preferred.set(index);
                return answer;
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
                    preferred.set(index);
                    throw e;
                }
                // Without this a channel that failed to connect waits out gRPC's reconnect backoff
                // (up to two minutes) before trying again, and a restarted agent would stay unused.
                channel.resetConnectBackoff();
                last = e;
            }
        }
        throw last;
    }

    public CircuitBreaker.State circuitState() {
        return circuitBreaker.getState();
    }

    @Override
    public void destroy() throws InterruptedException {
        for (ManagedChannel c : channels) {
            c.shutdownNow();
        }
        for (ManagedChannel c : channels) {
            c.awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
