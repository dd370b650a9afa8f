package io.javastor.gateway.security;

import org.junit.jupiter.api.Test;
import org.springframework.security.authentication.AuthenticationManager;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.oauth2.server.resource.authentication.BearerTokenAuthenticationToken;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

import io.javastor.testsupport.MovableClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link VerifiedTokens} over the gateway's real verifier (HS256 signature, times, role claim), counting the calls
 * that reach it; the time the cache goes by is a clock the test moves.
 */
class VerifiedTokensTest {
    private static final byte[] KEY = "a-test-signing-key-of-at-least-32-bytes!".getBytes(StandardCharsets.UTF_8);
    private static final byte[] OTHER_KEY = "another-key-that-signed-nothing-of-ours!".getBytes(StandardCharsets.UTF_8);

    private final AtomicInteger verifications = new AtomicInteger();
    private final MovableClock clock = new MovableClock(Instant.now());
    private final AuthenticationManager counted = request -> {
        verifications.incrementAndGet();
        return SecurityConfiguration.verifier(KEY).authenticate(request);
    };
    private final VerifiedTokens tokens = new VerifiedTokens(counted, clock);

    @Test
    void aTokenIsVerifiedOnceUntilItExpiresAndEachCallGetsItsOwnResult() {
        String token = TokenIssuer.issue(KEY, "ops", ApiRole.OPERATOR, Duration.ofHours(1));
        Authentication first = tokens.authenticate(request(token, "10.0.0.1"));
        Authentication second = tokens.authenticate(request(token, "10.0.0.2"));
        assertThat(verifications).hasValue(1);
        assertThat(second).isInstanceOf(JwtAuthenticationToken.class).isNotSameAs(first);
        assertThat(second.getName()).isEqualTo("ops");
        assertThat(second.getAuthorities()).extracting(a -> a.getAuthority()).contains(ApiRole.OPERATOR.authority())
                .containsExactlyElementsOf(first.getAuthorities().stream().map(a -> a.getAuthority()).toList());
        assertThat(second.getDetails()).as("the second call's own details").isEqualTo("10.0.0.2");
        assertThat(second.isAuthenticated()).isTrue();

        // At its expiry the kept answer is not used: the verifier decides again.
        clock.move(Duration.ofHours(1));
        tokens.authenticate(request(token, "10.0.0.3"));
        assertThat(verifications).hasValue(2);
    }

    @Test
    void refusedTokensAreNotKeptAndAreRefusedEveryTime() {
        String forged = TokenIssuer.issue(OTHER_KEY, "mallory", ApiRole.ADMIN, Duration.ofHours(1));
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> tokens.authenticate(request(forged, "10.0.0.9"))).isInstanceOf(AuthenticationException.class);
        }
        assertThat(verifications).hasValue(2);
        assertThat(tokens.size()).isZero();

        String expired = TokenIssuer.issue(KEY, "late", ApiRole.VIEWER, Duration.ofSeconds(1));
        clock.move(Duration.ofSeconds(2));
        // The verifier goes by the real time (and its 60 s leeway) and accepts it; kept, it is still not served from
        // memory at or after its expiry by the cache's clock.
        tokens.authenticate(request(expired, "10.0.0.8"));
        tokens.authenticate(request(expired, "10.0.0.8"));
        assertThat(verifications).hasValue(4);
    }

    private static BearerTokenAuthenticationToken request(String token, String details) {
        BearerTokenAuthenticationToken request = new BearerTokenAuthenticationToken(token);
        request.setDetails(details);
        return request;
    }
}
