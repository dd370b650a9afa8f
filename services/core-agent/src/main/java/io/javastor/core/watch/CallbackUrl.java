package io.javastor.core.watch;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

import io.javastor.core.operation.CoreException;

/** The rules a watch's callback must meet, checked before anything is stored. */
final class CallbackUrl {

    /** Long enough for any sane webhook, short enough to keep etcd values and log lines small. */
    static final int MAX_LENGTH = 2048;

    private CallbackUrl() {
    }

    /** The callback as given (it is the watch's identity, so it is not rewritten), once it is a usable URL. */
    static URI parse(String value) {
        if (value == null || value.isBlank()) {
            throw new CoreException.InvalidArgument("callback", "is required");
        }
        if (value.length() > MAX_LENGTH) {
            throw new CoreException.InvalidArgument("callback", "must be at most " + MAX_LENGTH + " characters, got " + value.length());
        }
        URI uri;
        try {
            uri = new URI(value);
        } catch (URISyntaxException e) {
            throw new CoreException.InvalidArgument("callback", "is not a URL: " + e.getMessage());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!uri.isAbsolute() || !(scheme.equals("http") || scheme.equals("https"))) {
            throw new CoreException.InvalidArgument("callback", "must be an absolute http or https URL, got '" + value + "'");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new CoreException.InvalidArgument("callback", "must name a host, got '" + value + "'");
        }
        // The URL is stored in etcd and named in logs and answers: no place for a password.
        if (uri.getRawUserInfo() != null) {
            throw new CoreException.InvalidArgument("callback", "must not carry user credentials");
        }
        return uri;
    }
}
