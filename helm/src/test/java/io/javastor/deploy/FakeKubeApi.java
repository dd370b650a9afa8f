package io.javastor.deploy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The few Kubernetes API answers the chart's {@code lookup} needs, on loopback.
 * <p>
 * helm-java renders templates with a dry-run mode that lets {@code lookup} reach the cluster (plain
 * {@code helm template} does not), so without an API server the chart's "keep the generated PostgreSQL
 * password" lookup fails. This server answers discovery of v1 and GETs of Secrets, which also lets a test
 * play an upgrade (the Secret exists) against a first install (404).
 * The kubeconfig pointing at it is written to the path of the KUBECONFIG variable surefire sets.
 */
final class FakeKubeApi {
    private static FakeKubeApi instance;

    private final HttpServer server;
    private final Map<String, Map<String, String>> secrets = new ConcurrentHashMap<>();
    final List<String> requests = new CopyOnWriteArrayList<>();

    private FakeKubeApi() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", this::handle);
        server.setExecutor(null);
        server.start();
    }

    /** Starts the server once per test JVM and points KUBECONFIG's file at it. */
    static synchronized FakeKubeApi start() {
        if (instance == null) {
            try {
                instance = new FakeKubeApi();
                String path = System.getenv("KUBECONFIG");
                if (path == null || path.isBlank()) {
                    throw new IllegalStateException("KUBECONFIG is not set (surefire sets it in helm/pom.xml)");
                }
                Files.createDirectories(Path.of(path).toAbsolutePath().getParent());
                Files.writeString(Path.of(path), """
                        apiVersion: v1
                        kind: Config
                        clusters:
                          - name: fake
                            cluster:
                              server: http://127.0.0.1:%d
                        contexts:
                          - name: fake
                            context:
                              cluster: fake
                              user: fake
                        current-context: fake
                        users:
                          - name: fake
                            user: {}
                        """.formatted(instance.server.getAddress().getPort()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return instance;
    }

    /** Makes a Secret exist (data values in clear; served base64-encoded like the API does). */
    void putSecret(String namespace, String name, Map<String, String> data) {
        secrets.put(namespace + "/" + name, data);
    }

    void clearSecrets() {
        secrets.clear();
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        requests.add(ex.getRequestMethod() + " " + path);
        if ("/api/v1".equals(path)) {
            reply(ex, 200, """
                    {"kind":"APIResourceList","apiVersion":"v1","groupVersion":"v1","resources":[
                      {"name":"secrets","singularName":"secret","namespaced":true,"kind":"Secret","verbs":["get","list"]}]}""");
            return;
        }
        String[] p = path.split("/");
        // /api/v1/namespaces/{ns}/secrets/{name}
        if (p.length == 7 && "namespaces".equals(p[3]) && "secrets".equals(p[5]) && "GET".equals(ex.getRequestMethod())) {
            Map<String, String> data = secrets.get(p[4] + "/" + p[6]);
            if (data != null) {
                StringBuilder json = new StringBuilder();
                data.forEach((k, v) -> json.append(json.isEmpty() ? "" : ",").append('"').append(k).append("\":\"")
                        .append(Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))).append('"'));
                reply(ex, 200, """
                        {"kind":"Secret","apiVersion":"v1","metadata":{"name":"%s","namespace":"%s"},"type":"Opaque","data":{%s}}"""
                        .formatted(p[6], p[4], json));
                return;
            }
        }
        reply(ex, 404, """
                {"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"not found"}""");
    }

    private static void reply(HttpExchange ex, int code, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(code, bytes.length);
        ex.getResponseBody().write(bytes);
        ex.close();
    }
}
