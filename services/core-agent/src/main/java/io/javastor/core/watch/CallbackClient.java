package io.javastor.core.watch;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Calls watch callbacks the way Mayastor's core agent does: an HTTP PUT to the URL with an empty body; any 2xx
 * is success. The receiver reads the volume itself (GET /v0/volumes/{id}) if it wants the details. Calls run on
 * this client's own threads with a deadline, so a dead or slow receiver never holds a reconciler.
 */
final class CallbackClient implements AutoCloseable {

    private final HttpClient http;
    private final ExecutorService executor;
    private final Duration timeout;

    CallbackClient(Duration timeout) {
        this.timeout = timeout;
        this.executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "watch-callback");
            t.setDaemon(true);
            return t;
        });
        // HTTP/1.1: no h2c upgrade dance with simple webhook receivers.
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout).executor(executor)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** Completes normally on a 2xx answer, exceptionally otherwise (status, refused, timed out). */
    CompletableFuture<Void> put(URI callback) {
        HttpRequest request = HttpRequest.newBuilder(callback).timeout(timeout).PUT(HttpRequest.BodyPublishers.noBody()).build();
        return http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
                // The request timeout covers the answer's headers only; this bounds the whole call as the notifier sees it.
                .orTimeout(timeout.toMillis() * 2, TimeUnit.MILLISECONDS)
                .thenAccept(r -> {
                    if (r.statusCode() / 100 != 2) {
                        throw new CallbackRefused(r.statusCode());
                    }
                });
    }

    static final class CallbackRefused extends RuntimeException {
        CallbackRefused(int status) {
            super("answered HTTP " + status);
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
