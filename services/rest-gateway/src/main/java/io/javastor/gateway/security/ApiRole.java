package io.javastor.gateway.security;

import java.util.Arrays;
import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

import org.springframework.security.core.GrantedAuthority;

/**
 * Who may do what with the v0 API. Each role includes the ones below it: a viewer reads, an operator also runs
 * volumes (create, resize, publish, replica count, targets, watches, later snapshots: what an application team
 * needs), an admin also changes nodes, pools, replicas and nexuses directly, drains and cordons.
 */
public enum ApiRole {
    VIEWER, OPERATOR, ADMIN;

    /** The value of the token's {@code role} claim. */
    public String claim() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The Spring Security authority this role is granted as. */
    public String authority() {
        return "ROLE_" + name();
    }

    public boolean includes(ApiRole other) {
        return compareTo(other) >= 0;
    }

    public static Optional<ApiRole> ofClaim(String claim) {
        return Arrays.stream(values()).filter(r -> r.claim().equals(claim)).findFirst();
    }

    /** The highest role among these authorities, if any. */
    public static Optional<ApiRole> of(Collection<? extends GrantedAuthority> authorities) {
        return authorities.stream().map(GrantedAuthority::getAuthority)
                .flatMap(a -> Arrays.stream(values()).filter(r -> r.authority().equals(a)))
                .max(ApiRole::compareTo);
    }

    /** The least role that may make this call; anything not listed needs an admin (deny by default). */
    public static ApiRole neededFor(String method, String path) {
        if (method.equals("GET") || method.equals("HEAD")) {
            return VIEWER;
        }
        // "/v0/volumes" without the slash too: Mayastor's spec spells the share DELETE /volumes{volume_id}/share.
        if (path.startsWith("/v0/volumes") || path.startsWith("/v0/watches/volumes/") || path.startsWith("/v0/snapshots/")
                || path.startsWith("/v0/volume-snapshots/")) {
            return OPERATOR;
        }
        return ADMIN;
    }
}
