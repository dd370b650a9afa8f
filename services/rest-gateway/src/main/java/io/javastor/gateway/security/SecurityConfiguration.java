package io.javastor.gateway.security;

import java.nio.charset.StandardCharsets;

import javax.crypto.spec.SecretKeySpec;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.oauth2.jose.jws.MacAlgorithm;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.web.SecurityFilterChain;

import io.javastor.gateway.errors.ErrorKind;
import io.javastor.gateway.errors.RestError;
import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

/**
 * Stateless security: no sessions, no CSRF (no cookies are used). With auth enabled, /v0 needs a
 * JWT signed with the configured key; health, metrics, the OpenAPI document and Swagger UI stay open.
 */
@Configuration
public class SecurityConfiguration {

    @Bean
    SecurityFilterChain security(HttpSecurity http, AuthProperties auth, JsonMapper json) throws Exception {
        http.csrf(c -> c.disable())
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .httpBasic(b -> b.disable())
                .formLogin(f -> f.disable());
        if (!auth.enabled()) {
            http.authorizeHttpRequests(a -> a.anyRequest().permitAll());
            return http.build();
        }
        SecretKeySpec key = new SecretKeySpec(auth.jwtSecret().getBytes(StandardCharsets.UTF_8), "HmacSHA256");
        JwtDecoder decoder = NimbusJwtDecoder.withSecretKey(key).macAlgorithm(MacAlgorithm.HS256).build();
        http.authorizeHttpRequests(a -> a
                        .requestMatchers("/v0/api-docs", "/v0/api-docs/**", "/swagger-ui.html", "/swagger-ui/**", "/actuator/**", "/error")
                        .permitAll()
                        .anyRequest().authenticated())
                .oauth2ResourceServer(o -> o.jwt(j -> j.decoder(decoder))
                        .authenticationEntryPoint((request, response, e) -> write(response, json, HttpStatus.UNAUTHORIZED,
                                new RestError(ErrorKind.Unauthorized.name(), "a valid bearer token is required: " + e.getMessage(),
                                        request.getRequestURI())))
                        .accessDeniedHandler((request, response, e) -> write(response, json, HttpStatus.FORBIDDEN,
                                new RestError(ErrorKind.Forbidden.name(), e.getMessage(), request.getRequestURI()))));
        return http.build();
    }

    private static void write(HttpServletResponse response, JsonMapper json, HttpStatus status, RestError error)
            throws java.io.IOException {
        response.setStatus(status.value());
        response.setContentType(MediaType.APPLICATION_JSON_VALUE);
        if (status == HttpStatus.UNAUTHORIZED) {
            response.setHeader("WWW-Authenticate", "Bearer");
        }
        response.getWriter().write(json.writeValueAsString(error));
    }
}
