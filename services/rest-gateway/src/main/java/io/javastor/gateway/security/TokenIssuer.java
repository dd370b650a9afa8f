package io.javastor.gateway.security;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;
import java.util.concurrent.Callable;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Issues a bearer token for the REST API, signed with the gateway's key: {@code ./javastor token ROLE} runs it
 * (from the gateway's jar, without starting the gateway). The token carries its subject, role, issue time,
 * expiry and an id, and nothing secret.
 */
@Command(name = "javastor-token", mixinStandardHelpOptions = true,
        description = "Prints a REST API bearer token signed with the gateway's key.")
public final class TokenIssuer implements Callable<Integer> {

    @Option(names = "--key-file", required = true, description = "the gateway's signing key (javastor.gateway.auth.jwt-secret-file)")
    Path keyFile;

    @Option(names = "--role", required = true, description = "viewer, operator or admin")
    String role;

    @Option(names = "--subject", description = "who the token is for (default: the role)")
    String subject;

    @Option(names = "--days", defaultValue = "30", description = "days until it expires (default: ${DEFAULT-VALUE})")
    int days;

    public static void main(String[] args) {
        System.exit(new CommandLine(new TokenIssuer()).execute(args));
    }

    @Override
    public Integer call() {
        ApiRole r = ApiRole.ofClaim(role).orElseThrow(() -> new CommandLine.ParameterException(new CommandLine(this),
                "--role: '" + role + "' is not a role; use viewer, operator or admin"));
        if (days < 1 || days > 3650) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--days: " + days + " is outside 1..3650");
        }
        System.out.println(issue(AuthProperties.SigningKey.read(keyFile), subject == null ? r.claim() : subject, r,
                Duration.ofDays(days)));
        return 0;
    }

    /** A signed token (HS256) for this subject and role, valid from now for {@code validity}. */
    public static String issue(byte[] key, String subject, ApiRole role, Duration validity) {
        Instant now = Instant.now();
        JWTClaimsSet claims = new JWTClaimsSet.Builder().subject(subject).claim(SecurityConfiguration.ROLE_CLAIM, role.claim())
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plus(validity))).jwtID(UUID.randomUUID().toString()).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        try {
            jwt.sign(new MACSigner(key));
        } catch (JOSEException e) {
            throw new IllegalArgumentException("the signing key cannot sign HS256: " + e.getMessage(), e);
        }
        return jwt.serialize();
    }
}
