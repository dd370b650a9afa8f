package io.javastor.kubectl;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.ByteString;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;

/**
 * The Kubernetes API the plugin meets in a cluster: fabric8's mock server in CRUD mode (the objects the chart makes,
 * as the test creates them) that also answers a pod's {@code portforward} as the kubelet does, over WebSocket in the
 * v4.channel.k8s.io protocol (channel 0 data, channel 1 errors, each channel's first frame the 2-byte little-endian
 * port), relaying the bytes to a real process on loopback. Namespaces named forbidden answer 403 to everything, as
 * RBAC would; {@link #forbidSecrets} makes Secrets alone 403.
 */
final class KubernetesApiStandIn implements AutoCloseable {
    private static final Pattern PORT_FORWARD = Pattern.compile("/api/v1/namespaces/([^/]+)/pods/([^/]+)/portforward\\?ports=(\\d+)");
    private static final Pattern NAMESPACED = Pattern.compile("/api/v1/namespaces/([^/?]+)/([^/?]+).*");

    private final KubernetesMockServer server;
    /** "namespace/pod" -> the loopback port its forwarded port really is. */
    private final Map<String, Integer> forwards = new ConcurrentHashMap<>();
    private final Set<String> forbiddenNamespaces = ConcurrentHashMap.newKeySet();
    private final Set<String> refusedForwards = ConcurrentHashMap.newKeySet();
    private volatile boolean forbidSecrets;
    private final AtomicInteger relayedStreams = new AtomicInteger();

    KubernetesApiStandIn() {
        var responses = new HashMap<io.fabric8.mockwebserver.ServerRequest, java.util.Queue<io.fabric8.mockwebserver.ServerResponse>>();
        server = new KubernetesMockServer(new Context(), new MockWebServer(), responses, new KubernetesMixedDispatcher(responses) {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                return answer(request).orElseGet(() -> super.dispatch(request));
            }
        }, false);
        server.init(InetAddress.getLoopbackAddress(), 0);
    }

    private java.util.Optional<MockResponse> answer(RecordedRequest request) {
        String path = request.getPath();
        Matcher ns = NAMESPACED.matcher(path);
        if (ns.matches() && (forbiddenNamespaces.contains(ns.group(1)) || forbidSecrets && ns.group(2).equals("secrets"))) {
            return java.util.Optional.of(status(403, "Forbidden", "forbidden: User \"kube-user\" cannot " + request.getMethod().toLowerCase()
                    + " resource \"" + ns.group(2) + "\" in namespace \"" + ns.group(1) + "\""));
        }
        Matcher pf = PORT_FORWARD.matcher(path);
        if (!pf.matches()) {
            return java.util.Optional.empty();
        }
        String pod = pf.group(1) + "/" + pf.group(2);
        if (refusedForwards.contains(pod)) {
            return java.util.Optional.of(status(403, "Forbidden", "pods \"" + pf.group(2) + "\" is forbidden: cannot create pods/portforward"));
        }
        Integer target = forwards.get(pod);
        if (target == null) {
            return java.util.Optional.of(status(404, "NotFound", "pods \"" + pf.group(2) + "\" not found"));
        }
        return java.util.Optional.of(new MockResponse().withWebSocketUpgrade(new Relay(target, Integer.parseInt(pf.group(3)))));
    }

    private static MockResponse status(int code, String reason, String message) {
        return new MockResponse().setResponseCode(code).setHeader("Content-Type", "application/json").setBody("""
                {"kind":"Status","apiVersion":"v1","status":"Failure","message":%s,"reason":"%s","code":%d}"""
                .formatted(RestConnection.JSON.writeValueAsString(message), reason, code));
    }

    KubernetesClient client() {
        return server.createClient();
    }

    /** The pod's port-forward reaches this loopback port. */
    void forward(String namespace, String pod, int loopbackPort) {
        forwards.put(namespace + "/" + pod, loopbackPort);
    }

    void refuseForward(String namespace, String pod) {
        refusedForwards.add(namespace + "/" + pod);
    }

    void forbid(String namespace) {
        forbiddenNamespaces.add(namespace);
    }

    void forbidSecrets(boolean forbid) {
        forbidSecrets = forbid;
    }

    /** Port-forward streams opened so far (one per connection the plugin's HTTP client opened). */
    int relayedStreams() {
        return relayedStreams.get();
    }

    /** A kubeconfig as kubectl would have: this server, a user with a bearer token, a current context. */
    Path kubeconfig(Path dir) throws IOException {
        Path file = dir.resolve("kubeconfig");
        Files.writeString(file, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: stand-in
                  cluster:
                    server: http://127.0.0.1:%d
                users:
                - name: kube-user
                  user:
                    token: kube-user-token
                contexts:
                - name: stand-in
                  context:
                    cluster: stand-in
                    user: kube-user
                current-context: stand-in
                """.formatted(server.getPort()));
        return file;
    }

    @Override
    public void close() {
        server.destroy();
    }

    /** One port-forward stream: the WebSocket on one side, a TCP connection to the real process on the other. */
    private final class Relay extends WebSocketListener {
        private final int target;
        private final int port;
        private volatile Socket socket;

        Relay(int target, int port) {
            this.target = target;
            this.port = port;
        }

        @Override
        public void onOpen(WebSocket ws, Response response) {
            relayedStreams.incrementAndGet();
            try {
                socket = new Socket(InetAddress.getLoopbackAddress(), target);
            } catch (IOException e) {
                ws.send(new byte[] {0, (byte) port, (byte) (port >> 8)});
                ws.send(concat((byte) 1, new byte[] {(byte) port, (byte) (port >> 8)}, ("cannot connect to port " + port + ": " + e.getMessage())
                        .getBytes(StandardCharsets.UTF_8)));
                ws.close(1000, "");
                return;
            }
            // As the kubelet does: each channel opens with the port it carries.
            ws.send(new byte[] {0, (byte) port, (byte) (port >> 8)});
            ws.send(new byte[] {1, (byte) port, (byte) (port >> 8)});
            Thread pump = new Thread(() -> {
                byte[] buf = new byte[16 * 1024];
                try (InputStream in = socket.getInputStream()) {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        ws.send(concat((byte) 0, Arrays.copyOf(buf, n)));
                    }
                } catch (IOException closed) {
                    // the other side went away: the stream ends
                }
                ws.close(1000, "");
            }, "relay-" + target);
            pump.setDaemon(true);
            pump.start();
        }

        @Override
        public void onMessage(WebSocket ws, ByteString bytes) {
            data(bytes.toByteArray());
        }

        @Override
        public void onMessage(WebSocket ws, byte[] bytes) {
            data(bytes);
        }

        private void data(byte[] frame) {
            if (frame.length < 1 || frame[0] != 0 || socket == null) {
                return;
            }
            try {
                OutputStream out = socket.getOutputStream();
                out.write(frame, 1, frame.length - 1);
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void onClosing(WebSocket ws, int code, String reason) {
            closeSocket();
        }

        @Override
        public void onClosed(WebSocket ws, int code, String reason) {
            closeSocket();
        }

        private void closeSocket() {
            try {
                if (socket != null) {
                    socket.close();
                }
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    private static byte[] concat(byte channel, byte[]... parts) {
        int length = 1;
        for (byte[] p : parts) {
            length += p.length;
        }
        byte[] all = new byte[length];
        all[0] = channel;
        int at = 1;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }
}
