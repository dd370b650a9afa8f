package io.javastor.gateway.validation;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

import io.javastor.api.nvmf.HostNqn;
import io.javastor.gateway.errors.ApiException;

/**
 * The syntax of every input, checked before anything is sent to the core agent. Each rule throws
 * {@link ApiException#invalid} naming the field, so a caller learns exactly what to fix.
 */
public final class InputRules {

    /** Node names as the core agent accepts them (DNS labels, like Kubernetes node names). */
    private static final Pattern NODE_ID = io.javastor.api.naming.ResourceIds.NODE_ID;
    private static final Pattern POOL_ID = io.javastor.api.naming.ResourceIds.POOL_ID;
    /** Kubernetes label syntax: an optional DNS-subdomain prefix and a 1-63 character name. */
    private static final Pattern LABEL_NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?");
    private static final Pattern LABEL_PREFIX = Pattern.compile("[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?");
    private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?");
    private static final Set<String> DISK_SCHEMES = Set.of("uring", "aio", "malloc");

    private InputRules() {
    }

    public static String uuid(String field, String value) {
        if (value == null || value.length() != 36) {
            throw ApiException.invalid(field, "must be a UUID, got '" + value + "'");
        }
        try {
            UUID.fromString(value);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(field, "must be a UUID, got '" + value + "'");
        }
        return value.toLowerCase();
    }

    public static String nodeId(String field, String value) {
        if (value == null || !NODE_ID.matcher(value).matches()) {
            throw ApiException.invalid(field, "must be 1-63 lowercase letters, digits, '-' or '.', got '" + value + "'");
        }
        return value;
    }

    public static String poolId(String field, String value) {
        if (value == null || !POOL_ID.matcher(value).matches()) {
            throw ApiException.invalid(field, "must be 1-63 letters, digits, '.', '_' or '-', got '" + value + "'");
        }
        return value;
    }

    public static String labelKey(String field, String key) {
        if (key == null || key.isEmpty() || key.length() > 317) {
            throw ApiException.invalid(field, "must be a label key ([prefix/]name), got '" + key + "'");
        }
        int slash = key.indexOf('/');
        String name = slash < 0 ? key : key.substring(slash + 1);
        if (slash >= 0 && !LABEL_PREFIX.matcher(key.substring(0, slash)).matches()) {
            throw ApiException.invalid(field, "prefix must be a DNS subdomain, got '" + key + "'");
        }
        if (!LABEL_NAME.matcher(name).matches()) {
            throw ApiException.invalid(field, "name must be 1-63 letters, digits, '-', '_' or '.', starting and ending alphanumeric, got '"
                    + key + "'");
        }
        return key;
    }

    public static String labelValue(String field, String value) {
        if (value == null || !LABEL_VALUE.matcher(value).matches()) {
            throw ApiException.invalid(field, "must be 0-63 letters, digits, '-', '_' or '.', starting and ending alphanumeric, got '"
                    + value + "'");
        }
        return value;
    }

    public static Map<String, String> labels(String field, Map<String, String> labels) {
        if (labels == null) {
            return Map.of();
        }
        labels.forEach((k, v) -> {
            labelKey(field + "." + k, k);
            labelValue(field + "." + k, v);
        });
        return labels;
    }

    /** A "key=value" path segment. */
    public static Map.Entry<String, String> keyEqualsValue(String field, String segment) {
        int eq = segment == null ? -1 : segment.indexOf('=');
        if (eq <= 0 || eq == segment.length() - 1) {
            throw ApiException.invalid(field, "must be key=value with both parts non-empty, got '" + segment + "'");
        }
        String key = labelKey(field, segment.substring(0, eq));
        String value = labelValue(field, segment.substring(eq + 1));
        return Map.entry(key, value);
    }

    public static long positiveSize(String field, Long size) {
        if (size == null) {
            throw ApiException.invalid(field, "is required");
        }
        if (size <= 0) {
            throw ApiException.invalid(field, "must be a positive number of bytes, got " + size);
        }
        return size;
    }

    public static int replicaCount(String field, Integer count, int max) {
        if (count == null) {
            throw ApiException.invalid(field, "is required");
        }
        if (count < 1 || count > max) {
            throw ApiException.invalid(field, "must be 1.." + max + ", got " + count);
        }
        return count;
    }

    public static <T> T required(String field, T value) {
        if (value == null) {
            throw ApiException.invalid(field, "is required");
        }
        return value;
    }

    /** Disk URIs as the io-engine opens them: uring:///dev/sdb, aio:///path, malloc:///name?size_mb=N. */
    public static List<String> disks(String field, List<String> disks) {
        if (disks == null || disks.isEmpty()) {
            throw ApiException.invalid(field, "at least one disk URI is required");
        }
        for (int i = 0; i < disks.size(); i++) {
            String d = disks.get(i);
            String f = field + "[" + i + "]";
            if (d == null || d.isBlank()) {
                throw ApiException.invalid(f, "must not be empty");
            }
            URI uri;
            try {
                uri = new URI(d);
            } catch (URISyntaxException e) {
                throw ApiException.invalid(f, "is not a URI: " + e.getMessage());
            }
            if (uri.getScheme() == null || !DISK_SCHEMES.contains(uri.getScheme())) {
                throw ApiException.invalid(f, "scheme must be one of " + DISK_SCHEMES + ", got '" + d + "'");
            }
            if (uri.getPath() == null || uri.getPath().length() < 2) {
                throw ApiException.invalid(f, "must name a device, file or malloc disk, got '" + d + "'");
            }
        }
        return disks;
    }

    /** NVMe host NQNs (allowed hosts of a share): {@link HostNqn}'s rule; absent: none. */
    public static List<String> hostNqns(String field, List<String> nqns) {
        if (nqns == null) {
            return List.of();
        }
        for (int i = 0; i < nqns.size(); i++) {
            int at = i;
            HostNqn.whyNot(nqns.get(i)).ifPresent(why -> {
                throw ApiException.invalid(field + "[" + at + "]", "must be an NVMe host NQN (nqn.<...>, at most 223 bytes): " + why);
            });
        }
        return nqns;
    }

    /** The hosts a share admits: at least one (nothing is shared to every host: each host authenticates with its own pair). */
    public static List<String> namedHostNqns(String field, List<String> nqns) {
        List<String> hosts = hostNqns(field, nqns);
        if (hosts.isEmpty()) {
            throw ApiException.invalid(field, "is required: name the hosts that may connect (host NQNs); nothing is shared to "
                    + "every host, since each named host authenticates with its own DH-HMAC-CHAP secrets (./javastor host-secrets)");
        }
        return hosts;
    }

    public static int nonNegative(String field, Integer value, int defaultValue) {
        if (value == null) {
            return defaultValue;
        }
        if (value < 0) {
            throw ApiException.invalid(field, "must not be negative, got " + value);
        }
        return value;
    }

    public static Integer range(String field, Integer value, int min, int max) {
        if (value != null && (value < min || value > max)) {
            throw ApiException.invalid(field, "must be " + min + ".." + max + ", got " + value);
        }
        return value;
    }
}
