package io.javastor.ioengine.device;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A disk URI as the API accepts it (Mayastor's forms): {@code uring:///dev/sdb}, {@code uring:///path/file},
 * {@code aio:///path} (served by the same io_uring engine) and {@code malloc:///name?size_mb=N}.
 * A file URI may carry {@code ?size_mb=N} to create a sparse file for a dev pool.
 */
public sealed interface DeviceUri {

    String text();

    /** A file or block device driven through io_uring. */
    record Uring(String text, Path path, long createSizeMb) implements DeviceUri {
    }

    /** A RAM disk (tests and demos only: its contents die with the process). */
    record Malloc(String text, String name, long sizeMb, int blockSize) implements DeviceUri {
    }

    static DeviceUri parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("disk URI is empty");
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("disk URI '" + text + "' is not a valid URI: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        String path = uri.getPath();
        long sizeMb = queryLong(text, uri.getQuery(), "size_mb", 0);
        switch (scheme) {
            case "uring", "aio" -> {
                if (uri.getAuthority() != null && !uri.getAuthority().isEmpty()) {
                    throw new IllegalArgumentException("disk URI '" + text + "' must have an empty host: " + scheme + ":///path");
                }
                if (path == null || !path.startsWith("/") || path.length() < 2) {
                    throw new IllegalArgumentException("disk URI '" + text + "' needs an absolute path: " + scheme + ":///path");
                }
                return new Uring(text, Path.of(path), sizeMb);
            }
            case "malloc" -> {
                String name = path == null ? "" : path.replaceFirst("^/", "");
                if (name.isEmpty() || name.contains("/")) {
                    throw new IllegalArgumentException("disk URI '" + text + "' needs a name without '/': malloc:///name?size_mb=N");
                }
                if (sizeMb <= 0) {
                    throw new IllegalArgumentException("disk URI '" + text + "' needs size_mb > 0");
                }
                long bs = queryLong(text, uri.getQuery(), "blk_size", 512);
                if (bs != 512 && bs != 4096) {
                    throw new IllegalArgumentException("disk URI '" + text + "': blk_size must be 512 or 4096");
                }
                return new Malloc(text, name, sizeMb, (int) bs);
            }
            default -> throw new IllegalArgumentException("disk URI '" + text + "' has unsupported scheme '" + scheme
                    + "' (supported: uring, aio, malloc)");
        }
    }

    private static long queryLong(String text, String query, String key, long dflt) {
        if (query == null || query.isEmpty()) {
            return dflt;
        }
        for (String kv : query.split("&")) {
            int eq = kv.indexOf('=');
            String k = eq < 0 ? kv : kv.substring(0, eq);
            if (k.equals(key)) {
                String v = eq < 0 ? "" : kv.substring(eq + 1);
                try {
                    long n = Long.parseLong(v);
                    if (n < 0) {
                        throw new NumberFormatException();
                    }
                    return n;
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("disk URI '" + text + "': " + key + " must be a non-negative integer, got '" + v + "'");
                }
            } else if (!k.equals("size_mb") && !k.equals("blk_size") && !k.equals("uuid")) {
                throw new IllegalArgumentException("disk URI '" + text + "': unknown parameter '" + k + "'");
            }
        }
        return dflt;
    }
}
