package io.javastor.kubectl;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.function.Supplier;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The REST gateway, as the plugin talks to it: HTTPS trusting the cluster CA, a bearer token, JSON. A 4xx or 5xx
 * answer becomes {@link ApiError} with the gateway's own words ({kind, message, details}); no answer at all becomes
 * {@link Unreachable}. No retries: the user sees what happened and runs it again.
 */
public final class RestConnection {
    static final JsonMapper JSON = JsonMapper.builder().build();

    /** The gateway refused or failed the call. */
    public static final class ApiError extends RuntimeException {
        private final int status;
        private final String kind;

        ApiError(int status, String kind, String message) {
            super(message);
            this.status = status;
            this.kind = kind;
        }

        public int status() {
            return status;
        }

        public String kind() {
            return kind;
        }
    }

    /** Nothing answered at the URL (or TLS failed). */
    public static final class Unreachable extends RuntimeException {
        Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final String base;
    private final String token;
    private final HttpClient http;
    private final String where;
    private final Supplier<String> trouble;

    public RestConnection(String restUrl, String token, Path caFile) {
        this(restUrl, token, caFile == null ? null : trusting(read(caFile), "--ca-file " + caFile), null, () -> "");
    }

    /**
     * @param ssl     trusting the cluster CA (null: the JDK's trust store)
     * @param where   what the URL really is, for error messages (null: the URL says it)
     * @param trouble what the transport underneath saw go wrong, added to "cannot reach" errors
     */
    RestConnection(String restUrl, String token, SSLContext ssl, String where, Supplier<String> trouble) {
        this.base = restUrl.replaceAll("/+$", "");
        this.token = token;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
        if (ssl != null) {
            b.sslContext(ssl);
        }
        this.http = b.build();
        this.where = where != null ? where : base;
        this.trouble = trouble;
    }

    public String base() {
        return base;
    }

    public JsonNode get(String path) {
        return send("GET", path, null);
    }

    public JsonNode put(String path, Object body) {
        return send("PUT", path, body);
    }

    public JsonNode delete(String path) {
        return send("DELETE", path, null);
    }

    /** The raw body of a GET (for the support bundle: kept as the gateway wrote it). */
    public String getText(String path) {
        return call("GET", path, null).body();
    }

    static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private JsonNode send(String method, String path, Object body) {
        String text = call(method, path, body).body();
        return text == null || text.isBlank() ? JSON.createObjectNode() : JSON.readTree(text);
    }

    private HttpResponse<String> call(String method, String path, Object body) {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(120))
                .header("Accept", "application/json");
        if (token != null && !token.isBlank()) {
            r.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            r.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        } else {
            r.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> response;
        try {
            response = http.send(r.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new Unreachable("cannot reach the REST gateway at " + where + ": " + (e.getMessage() != null ? e.getMessage() : e.toString())
                    + trouble.get(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unreachable("interrupted", e);
        }
        if (response.statusCode() >= 400) {
            String kind = "Http" + response.statusCode();
            String message = response.body();
            try {
                JsonNode error = JSON.readTree(response.body());
                kind = error.path("kind").asString(kind);
                message = error.path("message").asString(message);
            } catch (RuntimeException notJson) {
                // not the RestJsonError shape (a proxy's page, say): keep the body as it is
            }
            throw new ApiError(response.statusCode(), kind, message);
        }
        return response;
    }

    private static byte[] read(Path caFile) {
        try {
            return Files.readAllBytes(caFile);
        } catch (IOException e) {
            throw new IllegalArgumentException("--ca-file " + caFile + ": " + e.getMessage(), e);
        }
    }

    /** TLS trusting the CA certificate(s) in this PEM; {@code source} names it in errors. */
    static SSLContext trusting(byte[] pem, String source) {
        try {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))) {
                trust.setCertificateEntry("ca-" + i++, c);
            }
            if (i == 0) {
                throw new IllegalArgumentException(source + ": holds no certificate (a PEM CA certificate is needed)");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            return ssl;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }
}
