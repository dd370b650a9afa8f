package io.javastor.api.rest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The REST gateway token a client of it (the CSI controller, the DiskPool operator) sends, read from its file on every call: a Kubernetes ServiceAccount token
 * is rotated in place by the kubelet, and a local one by writing the file again, without a restart.
 */
public record BearerTokenFile(Path file) {

    /** No file configured: calls carry no token (a gateway with authentication off). */
    public static BearerTokenFile none() {
        return new BearerTokenFile(null);
    }

    /** The "Authorization" header value, if a file is configured. */
    public Optional<String> authorization() {
        if (file == null) {
            return Optional.empty();
        }
        try {
            String token = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (token.isEmpty()) {
                throw new IllegalStateException("the REST token file " + file + " is empty");
            }
            return Optional.of("Bearer " + token);
        } catch (IOException e) {
            throw new IllegalStateException("the REST token file " + file + " cannot be read: " + e, e);
        }
    }
}
