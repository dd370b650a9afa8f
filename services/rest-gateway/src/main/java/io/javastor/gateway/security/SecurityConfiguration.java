package io.javastor.gateway.security;

import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.function.Supplier;

import javax.crypto.spec.SecretKeySpec;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.security.authentication.AuthenticationManager;
import org.springframework.security.authentication.AuthenticationServiceException;
import org.springframework.security.access.AuthorizationServiceException;
import org.springframework.security.authorization.AuthorizationDecision;
import org.springframework.security.authorization.AuthorizationManager;
import org.springframework.security.authorization.AuthorizationResult;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.observation.SecurityObservationSettings;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.jose.jws.MacAlgorithm;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.server.resource.InvalidBearerTokenException;
import org.springframework.security.oauth2.server.resource.authentication.BearerTokenAuthenticationToken;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationConverter;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationProvider;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.header.writers.DelegatingRequestMatcherHeaderWriter;
import org.springframework.security.web.header.writers.StaticHeadersWriter;
import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.security.web.util.matcher.OrRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;
import org.springframework.security.web.access.intercept.RequestAuthorizationContext;
import org.springframework.web.util.UrlPathHelper;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSObject;

import io.javastor.gateway.errors.ErrorKind;
import io.javastor.gateway.errors.RestError;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

/**
 * Stateless security: no sessions, no CSRF (no cookies are used). With auth on (the default), /v0 needs a bearer
 * token: a JWT signed with the configured key whose {@code role} claim names an {@link ApiRole} that covers the
 * call, or (with {@code kubernetes.enabled}) a Kubernetes token whose user RBAC gives that role;
 * health, info, Prometheus metrics, the OpenAPI document, Swagger UI and the dashboard's files (GET /ui/**) stay open.
 * Missing or bad token: 401;
 * a role too small for the call: 403; both as {kind, message, details}.
 */
@Configuration
public class SecurityConfiguration {
    static final String ROLE_CLAIM = "role";
    private static final UrlPathHelper PATHS = new UrlPathHelper();

    /** GET of the dashboard's files (dashboard.DashboardPages); no other method, no other path. */
    private static final RequestMatcher DASHBOARD = new OrRequestMatcher(
            PathPatternRequestMatcher.withDefaults().matcher(HttpMethod.GET, "/ui"),
            PathPatternRequestMatcher.withDefaults().matcher(HttpMethod.GET, "/ui/**"));
    /** The dashboard runs its own files only and talks to this gateway only: an injected script could read the token. */
    static final String DASHBOARD_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

    /**
     * No observations of Spring Security's own filters, authentications and authorizations: nothing here reads them
     * (no tracing; the request meters are http.server.requests), and wrapping every filter of every request cost a
     * tenth of the gateway's work per call in the REST benchmark.
     */
    @Bean
    SecurityObservationSettings securityObservations() {
        return SecurityObservationSettings.noObservations();
    }

    @Bean
    SecurityFilterChain security(HttpSecurity http, AuthProperties auth, JsonMapper json) throws Exception {
        http.csrf(c -> c.disable())
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .httpBasic(b -> b.disable())
                .formLogin(f -> f.disable())
                // No login pages, so no logout, no saved request to return to, no servlet-API wrapper (nothing asks
                // the request for its principal): three filters fewer on every call.
                .logout(l -> l.disable())
                .requestCache(r -> r.disable())
                .servletApi(s -> s.disable())
                .headers(h -> h.addHeaderWriter(new DelegatingRequestMatcherHeaderWriter(DASHBOARD,
                        new StaticHeadersWriter("Content-Security-Policy", DASHBOARD_POLICY))));
        if (!auth.enabled()) {
            http.authorizeHttpRequests(a -> a.anyRequest().permitAll());
            return http.build();
        }
        AuthenticationManager tokens = bearerTokens(auth);
        KubernetesReviews kubernetes = auth.kubernetes().enabled() ? new KubernetesReviews(auth.kubernetes(), Clock.systemUTC()) : null;
        AuthenticationManager anyToken = kubernetes == null ? tokens : authentication -> {
            String token = ((BearerTokenAuthenticationToken) authentication).getToken();
            if (tokens != null && isOurs(token)) {
                return tokens.authenticate(authentication);
            }
            try {
                return kubernetes.authenticate(token).map(KubernetesCaller::new)
                        .orElseThrow(() -> new InvalidBearerTokenException("Kubernetes did not authenticate the token (TokenReview)"));
            } catch (KubernetesReviews.ReviewFailed e) {
                throw new AuthenticationServiceException(e.getMessage(), e);
            }
        };
        http.authorizeHttpRequests(a -> a
                        // The dashboard's static files: the API calls they make carry the user's token.
                        .requestMatchers(DASHBOARD).permitAll()
                        .requestMatchers("/v0/api-docs", "/v0/api-docs/**", "/swagger-ui.html", "/swagger-ui/**", "/error",
                                "/actuator/health", "/actuator/health/**", "/actuator/info", "/actuator/prometheus")
                        .permitAll()
                        .anyRequest().access(new RoleRules(kubernetes)))
                .oauth2ResourceServer(o -> o.authenticationManagerResolver(request -> anyToken)
                        .authenticationEntryPoint((request, response, e) -> write(response, json, HttpStatus.UNAUTHORIZED,
                                new RestError(ErrorKind.Unauthorized.name(), "a valid bearer token is required: " + e.getMessage(),
                                        request.getRequestURI())))
                        .accessDeniedHandler((request, response, e) -> write(response, json, HttpStatus.FORBIDDEN,
                                new RestError(ErrorKind.Forbidden.name(), denial(request, e), request.getRequestURI()))));
        return http.build();
    }

    /** Our own tokens (HS256, signed with our key), with the role in their claim; null when none are accepted. */
    private static AuthenticationManager bearerTokens(AuthProperties auth) {
        if (!auth.localTokens()) {
            return null;
        }
        return new VerifiedTokens(verifier(auth.signingKey()), Clock.systemUTC());
    }

    /** Checks one of our tokens: its HS256 signature with {@code key}, its times, and its role claim to an authority. */
    static AuthenticationManager verifier(byte[] key) {
        JwtDecoder decoder = NimbusJwtDecoder.withSecretKey(new SecretKeySpec(key, "HmacSHA256"))
                .macAlgorithm(MacAlgorithm.HS256).build();
        JwtAuthenticationConverter roles = new JwtAuthenticationConverter();
        roles.setJwtGrantedAuthoritiesConverter(jwt -> ApiRole.ofClaim(jwt.getClaimAsString(ROLE_CLAIM))
                .map(r -> List.<GrantedAuthority>of(new SimpleGrantedAuthority(r.authority()))).orElse(List.of()));
        JwtAuthenticationProvider provider = new JwtAuthenticationProvider(decoder);
        provider.setJwtAuthenticationConverter(roles);
        return provider::authenticate;
    }

    /** A JWS whose header says HS256 is one of ours; Kubernetes signs its tokens with RS256 or ES256. */
    private static boolean isOurs(String token) {
        try {
            return JWSAlgorithm.HS256.equals(JWSObject.parse(token).getHeader().getAlgorithm());
        } catch (java.text.ParseException e) {
            return false;
        }
    }

    /**
     * Grants a call when the caller's role covers {@link ApiRole#neededFor} it: from the token's claim, or for a
     * Kubernetes caller, from RBAC.
     */
    private record RoleRules(KubernetesReviews kubernetes) implements AuthorizationManager<RequestAuthorizationContext> {
        @Override
        public AuthorizationResult authorize(Supplier<? extends Authentication> authentication, RequestAuthorizationContext context) {
            Authentication who = authentication.get();
            ApiRole needed = neededFor(context.getRequest());
            if (who instanceof KubernetesCaller caller && kubernetes != null) {
                try {
                    return new AuthorizationDecision(kubernetes.allowed(caller.user(), needed));
                } catch (KubernetesReviews.ReviewFailed e) {
                    throw new AuthorizationServiceException(e.getMessage(), e);
                }
            }
            boolean granted = who != null && who.isAuthenticated()
                    && ApiRole.of(who.getAuthorities()).map(r -> r.includes(needed)).orElse(false);
            return new AuthorizationDecision(granted);
        }
    }

    private static ApiRole neededFor(HttpServletRequest request) {
        return ApiRole.neededFor(request.getMethod(), PATHS.getPathWithinApplication(request));
    }

    private static String denial(HttpServletRequest request, Exception e) {
        Authentication who = SecurityContextHolder.getContext().getAuthentication();
        String call = request.getMethod() + " " + PATHS.getPathWithinApplication(request) + " needs role " + neededFor(request).claim();
        if (e instanceof AuthorizationServiceException) {
            return call + "; Kubernetes could not be asked: " + e.getMessage();
        }
        if (who instanceof KubernetesCaller caller) {
            return call + "; Kubernetes RBAC does not give '" + caller.getName() + "' verb " + neededFor(request).claim()
                    + " on " + KubernetesReviews.RESOURCE + "." + KubernetesReviews.GROUP;
        }
        String role = who == null ? "none" : ApiRole.of(who.getAuthorities()).map(ApiRole::claim)
                .orElse("none (the token has no valid '" + ROLE_CLAIM + "' claim)");
        return call + " or higher; " + (who == null ? "the caller" : "'" + who.getName() + "'") + " has role " + role;
    }

    private static void write(HttpServletResponse response, JsonMapper json, HttpStatus status, RestError error) throws IOException {
        response.setStatus(status.value());
        response.setContentType(MediaType.APPLICATION_JSON_VALUE);
        if (status == HttpStatus.UNAUTHORIZED) {
            response.setHeader("WWW-Authenticate", "Bearer");
        }
        response.getWriter().write(json.writeValueAsString(error));
    }
}
