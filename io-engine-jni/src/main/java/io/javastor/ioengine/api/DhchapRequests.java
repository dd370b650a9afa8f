package io.javastor.ioengine.api;

import io.javastor.api.ioengine.v1.DhchapSecrets;
import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.nvmf.auth.DhchapKeys;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * DH-HMAC-CHAP secrets as requests carry them ({@link DhchapSecrets}, by host NQN or child URI), checked: a bad one
 * is INVALID_ARGUMENT naming the field and the key it belongs to, never quoting the secret.
 */
public final class DhchapRequests {
    private DhchapRequests() {
    }

    /** {@code field}'s entries as keys; empty when there are none. */
    public static Map<String, DhchapKeys> keys(String field, Map<String, DhchapSecrets> entries) {
        Map<String, DhchapKeys> out = new LinkedHashMap<>();
        entries.forEach((name, secrets) -> out.put(name, keys(field + "[" + name + "]", secrets)));
        return out;
    }

    /** One entry; null when it is absent (no host secret). */
    public static DhchapKeys keys(String field, DhchapSecrets secrets) {
        if (secrets == null || (secrets.getHostSecret().isEmpty() && secrets.getControllerSecret().isEmpty())) {
            return null;
        }
        if (secrets.getHostSecret().isEmpty()) {
            throw EngineException.invalid(field, "a controller secret without the host's");
        }
        try {
            return DhchapKeys.parse(secrets.getHostSecret(), secrets.getControllerSecret());
        } catch (IllegalArgumentException e) {
            throw EngineException.invalid(field, e.getMessage());
        }
    }
}
