package io.javastor.csi.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * GET /metrics in the Prometheus text format. The plugin has no web server otherwise (it serves CSI on a unix socket),
 * so the JDK's HTTP server is enough for one read-only page; it binds to loopback unless told otherwise.
 */
public final class MetricsEndpoint implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MetricsEndpoint.class);
    private final HttpServer server;

    public MetricsEndpoint(PrometheusMeterRegistry registry, String address, int port) {
        try {
            server = HttpServer.create(new InetSocketAddress(address, port), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("javastor.csi.metrics: cannot listen on " + address + ":" + port, e);
        }
        server.createContext("/metrics", exchange -> {
            try (exchange) {
                if (!"GET".equals(exchange.getRequestMethod())) {
                    respond(exchange, 405, "GET only\n", "text/plain");
                } else {
                    respond(exchange, 200, registry.scrape(), "text/plain; version=0.0.4; charset=utf-8");
                }
            }
        });
        server.start();
        log.info("CSI metrics on http://{}:{}/metrics", address, port());
    }

    /** The bound port (the configured one, or the one chosen for port 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    private static void respond(HttpExchange exchange, int status, String body, String type) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
