package io.javastor.gateway.security;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;

import org.springframework.security.authentication.AuthenticationManager;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.oauth2.server.resource.authentication.BearerTokenAuthenticationToken;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;

import java.time.Clock;
import java.time.Duration;

/**
 * Our bearer tokens, verified once: a client sends the same token with every call, and checking its signature and
 * parsing its claims again each time was a tenth of the gateway's work per request. A token the verifier accepted is
 * kept until its own expiry (never longer, and only tokens that have one), so it authenticates exactly as long as
 * it would by verification; after that, or for any token not seen, the verifier decides. Refusals are not kept. Our
 * tokens cannot be revoked before they expire (HS256, no revocation list), so keeping them changes no answer.
 */
final class VerifiedTokens implements AuthenticationManager {
    /** Enough for every client of a cluster; beyond it the least used go and are verified again when they come back. */
    static final long MAX_TOKENS = 10_000;

    private final AuthenticationManager verifier;
    private final Clock clock;
    private final Cache<String, JwtAuthenticationToken> verified;

    VerifiedTokens(AuthenticationManager verifier, Clock clock) {
        this.verifier = verifier;
        this.clock = clock;
        this.verified = Caffeine.newBuilder().maximumSize(MAX_TOKENS)
                .expireAfter(Expiry.<String, JwtAuthenticationToken>creating((token, auth) -> untilExpiry(auth)))
                .build();
    }

    @Override
    public Authentication authenticate(Authentication request) throws AuthenticationException {
        String token = ((BearerTokenAuthenticationToken) request).getToken();
        JwtAuthenticationToken known = verified.getIfPresent(token);
        if (known != null && clock.instant().isBefore(known.getToken().getExpiresAt())) {
            // A fresh result per call: the request's own details (its remote address) go with it, not the first call's.
            JwtAuthenticationToken result = new JwtAuthenticationToken(known.getToken(), known.getAuthorities(), known.getName());
            result.setDetails(request.getDetails());
            return result;
        }
        Authentication result = verifier.authenticate(request);
        if (result instanceof JwtAuthenticationToken jwt && jwt.getToken().getExpiresAt() != null) {
            verified.put(token, jwt);
        }
        return result;
    }

    private Duration untilExpiry(JwtAuthenticationToken auth) {
        Duration left = Duration.between(clock.instant(), auth.getToken().getExpiresAt());
        return left.isNegative() ? Duration.ZERO : left;
    }

    /** How many tokens are kept now (for the test). */
    long size() {
        verified.cleanUp();
        return verified.estimatedSize();
    }
}
