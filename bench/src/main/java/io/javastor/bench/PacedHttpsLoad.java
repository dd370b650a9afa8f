package io.javastor.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * {@code bench/run rest}'s latency at a given rate: GETs of one URL sent on a fixed schedule (open loop, as wrk2 does)
 * over keep-alive HTTPS connections, each request's latency counted from the time the schedule meant to send it, so a
 * stall of the server counts for every request it held up, sent or not (no coordinated omission). wrk, which the
 * bench uses for the rate a server can take, is closed loop: its latencies at saturation are its connection count over
 * the rate, whatever the server does. A latency goal ("2,000 req/s with p99 at most 10 ms") is a question about a
 * given rate, which this answers. Not a test: it measures, it does not judge.
 *
 * <p>Arguments: URL RATE_PER_S SECONDS CONNECTIONS CA_FILE AUTHORIZATION_HEADER_VALUE [WARMUP_SECONDS]. Prints one line of
 * key=value pairs: {@code sent= rps= p50_ms= p99_ms= p999_ms= max_ms= errors= client_cpu_ms_per_req=} (the client's own
 * CPU: on a small machine it shares the cores with the servers it measures). {@code -Dpaced.trace=true} also prints
 * when each stall of more than 20 ms began; {@code -Dpaced.keep-alive-requests} (1000) is the server's requests per
 * connection, which spreads the connections' ages.
 */
public final class PacedHttpsLoad {

    private PacedHttpsLoad() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 6) {
            System.err.println("usage: PacedHttpsLoad URL RATE_PER_S SECONDS CONNECTIONS CA_FILE AUTHORIZATION [WARMUP_SECONDS]");
            System.exit(2);
        }
        URI url = URI.create(args[0]);
        int rate = Integer.parseInt(args[1]);
        int seconds = Integer.parseInt(args[2]);
        int connections = Integer.parseInt(args[3]);
        SSLContext tls = trusting(Path.of(args[4]));
        String authorization = args[5];
        int warmup = args.length > 6 ? Integer.parseInt(args[6]) : 0;
        // The gateway's server.tomcat.max-keep-alive-requests: how many requests it serves on one connection.
        int keepAliveRequests = Integer.getInteger("paced.keep-alive-requests", 1000);
        if (rate <= 0 || seconds <= 0 || connections <= 0 || warmup < 0) {
            throw new IllegalArgumentException("rate, seconds and connections must be positive, warm-up not negative: " + Arrays.toString(args));
        }
        if (warmup > 0) {
            run(url, rate, warmup, connections, keepAliveRequests, tls, authorization);
        }
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        Result r = run(url, rate, seconds, connections, keepAliveRequests, tls, authorization);
        long cpu = os.getProcessCpuTime() - cpu0;
        // The client's own CPU per request: on a small machine it shares the cores with the servers it measures.
        System.out.printf(Locale.ROOT, "sent=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f errors=%d client_cpu_ms_per_req=%.3f%n",
                r.sent(), r.sent() / (double) seconds, r.percentileMs(0.50), r.percentileMs(0.99), r.percentileMs(0.999),
                r.percentileMs(1.0), r.errors(), cpu / 1e6 / r.sent());
    }

    /** Latencies in ns of the requests answered 2xx, sorted, and how many were not. */
    record Result(long[] sorted, int sent, long errors) {
        double percentileMs(double q) {
            if (sorted.length == 0) {
                return Double.NaN;
            }
            int index = (int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
            return sorted[Math.max(0, index)] / 1e6;
        }
    }

    private static Result run(URI url, int rate, int seconds, int connections, int keepAliveRequests, SSLContext tls, String authorization)
            throws Exception {
        int total = Math.multiplyExact(rate, seconds);
        long interval = 1_000_000_000L / rate;
        long[] latencies = new long[total];
        boolean[] answered = new boolean[total];
        AtomicLong next = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        byte[] request = ("GET " + url.getRawPath() + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery()) + " HTTP/1.1\r\n"
                + "Host: " + url.getHost() + ":" + url.getPort() + "\r\nAuthorization: " + authorization + "\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
        List<Thread> workers = new ArrayList<>();
        List<Throwable> failures = new ArrayList<>();
        CountDownLatch ready = new CountDownLatch(connections);
        CountDownLatch go = new CountDownLatch(1);
        AtomicLong startAt = new AtomicLong();
        for (int w = 0; w < connections; w++) {
            // Connections of different ages, as a steady client's are: the server ends each after keepAliveRequests,
            // and connections all made at once would all end at once, a burst of handshakes no steady load has.
            int age = (int) ((long) w * keepAliveRequests / connections);
            Thread t = new Thread(() -> {
                try (Connection connection = new Connection(url, tls, request)) {
                    for (int k = 0; k < age; k++) {
                        connection.exchange();
                    }
                    ready.countDown();
                    go.await();
                    long start = startAt.get();
                    for (long i = next.getAndIncrement(); i < total; i = next.getAndIncrement()) {
                        long intended = start + i * interval;
                        for (long wait = intended - System.nanoTime(); wait > 0; wait = intended - System.nanoTime()) {
                            LockSupport.parkNanos(wait);
                        }
                        int status = connection.exchange();
                        latencies[(int) i] = System.nanoTime() - intended;
                        if (status / 100 == 2) {
                            answered[(int) i] = true;
                        } else {
                            errors.incrementAndGet();
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                    ready.countDown();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "paced-" + w);
            t.setDaemon(true); // a run that fails (below) does not wait for them
            t.start();
            workers.add(t);
        }
        if (!ready.await(seconds + 60L, TimeUnit.SECONDS)) {
            throw new IOException("the connections were not ready within " + (seconds + 60) + " s: the server stopped answering");
        }
        startAt.set(System.nanoTime() + 10_000_000L);
        go.countDown();
        // No read timeouts on the sockets (with one, each read is a non-blocking try and a poll: twice the system
        // calls of the client, which shares the cores); a whole run that overstays fails instead.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds + 60L);
        for (Thread t : workers) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (t.isAlive()) {
                throw new IOException("the run did not end within " + (seconds + 60) + " s: the server stopped answering");
            }
        }
        if (!failures.isEmpty()) {
            throw new IOException(failures.size() + " connection(s) failed; the first: " + failures.get(0), failures.get(0));
        }
        if (Boolean.getBoolean("paced.trace")) {
            long episodeEnd = -1;
            for (int i = 0; i < total; i++) {
                if (latencies[i] > 20_000_000L && i * interval > episodeEnd) {
                    System.err.printf("slow at %.3f s: %.1f ms%n", i * interval / 1e9, latencies[i] / 1e6);
                    episodeEnd = i * interval + latencies[i];
                }
            }
        }
        long[] ok = new long[total];
        int n = 0;
        for (int i = 0; i < total; i++) {
            if (answered[i]) {
                ok[n++] = latencies[i];
            }
        }
        long[] sorted = Arrays.copyOf(ok, n);
        Arrays.sort(sorted);
        return new Result(sorted, total, errors.get());
    }

    /** One keep-alive connection; made again, within the request that finds it closed, when the server ends it. */
    private static final class Connection implements AutoCloseable {
        private final URI url;
        private final SSLContext tls;
        private final byte[] request;
        private SSLSocket socket;
        private OutputStream out;
        private ResponseReader in;

        Connection(URI url, SSLContext tls, byte[] request) throws IOException {
            this.url = url;
            this.tls = tls;
            this.request = request;
            open();
        }

        private void open() throws IOException {
            socket = connect(url, tls);
            out = socket.getOutputStream();
            in = new ResponseReader(socket.getInputStream());
        }

        /** Sends the request and reads its response; answers the status. A new connection's handshake counts in it. */
        int exchange() throws IOException {
            if (socket == null) {
                open();
            }
            out.write(request);
            out.flush();
            Response response = in.read();
            if (response.close()) {
                close();
            }
            return response.status();
        }

        @Override
        public void close() throws IOException {
            if (socket != null) {
                SSLSocket s = socket;
                socket = null;
                s.close();
            }
        }
    }

    private static SSLSocket connect(URI url, SSLContext tls) throws IOException {
        SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(url.getHost(), url.getPort()), 5_000);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        return socket;
    }

    /** An HTTP response's status, and whether the server closes the connection after it. */
    record Response(int status, boolean close) {
    }

    /**
     * Reads HTTP/1.1 responses (RFC 9112: status line, fields, a Content-Length or chunked body) from one connection,
     * scanning its own buffer: the client shares the machine's cores with the servers it measures, so it reads cheaply.
     */
    static final class ResponseReader {
        private final InputStream in;
        private final byte[] buf = new byte[64 * 1024];
        private int pos;
        private int limit;

        ResponseReader(InputStream in) {
            this.in = in;
        }

        Response read() throws IOException {
            int lineEnd = lineEnd();
            if (lineEnd - pos < 12 || !startsWith("http/1.")) {
                throw new IOException("not an HTTP/1.x status line: " + text(pos, lineEnd));
            }
            int status = (buf[pos + 9] - '0') * 100 + (buf[pos + 10] - '0') * 10 + (buf[pos + 11] - '0');
            pos = lineEnd + 2;
            long length = -1;
            boolean chunked = false;
            boolean close = false;
            for (lineEnd = lineEnd(); lineEnd > pos; lineEnd = lineEnd()) {
                if (startsWith("content-length:")) {
                    length = Long.parseLong(text(pos + 15, lineEnd).trim());
                } else if (startsWith("transfer-encoding:")) {
                    chunked = text(pos + 18, lineEnd).toLowerCase(Locale.ROOT).contains("chunked");
                } else if (startsWith("connection:")) {
                    close = text(pos + 11, lineEnd).toLowerCase(Locale.ROOT).contains("close");
                }
                pos = lineEnd + 2;
            }
            pos = lineEnd + 2; // the empty line
            if (chunked) {
                for (long size = chunkSize(); size > 0; size = chunkSize()) {
                    skip(size + 2);
                }
                for (lineEnd = lineEnd(); lineEnd > pos; lineEnd = lineEnd()) {
                    pos = lineEnd + 2; // trailer fields: none expected, read past them
                }
                pos = lineEnd + 2;
            } else if (length > 0) {
                skip(length);
            } else if (length < 0 && status != 204 && status != 304) {
                throw new IOException("a response without Content-Length or chunked body on a kept-alive connection (status " + status + ")");
            }
            return new Response(status, close);
        }

        private long chunkSize() throws IOException {
            int lineEnd = lineEnd();
            String line = text(pos, lineEnd);
            pos = lineEnd + 2;
            return Long.parseLong(line.split(";", 2)[0].trim(), 16);
        }

        /** The index of the CR of the CRLF ending the line at pos, reading more as needed. */
        private int lineEnd() throws IOException {
            int from = pos;
            while (true) {
                for (int i = from; i + 1 < limit; i++) {
                    if (buf[i] == '\r' && buf[i + 1] == '\n') {
                        return i;
                    }
                }
                from = Math.max(pos, limit - 1);
                int shift = compact();
                from -= shift;
                if (!fill()) {
                    throw new IOException("the server closed the connection mid-response");
                }
            }
        }

        private boolean startsWith(String lowerCasePrefix) {
            if (limit - pos < lowerCasePrefix.length()) {
                return false;
            }
            for (int i = 0; i < lowerCasePrefix.length(); i++) {
                if (Character.toLowerCase((char) buf[pos + i]) != lowerCasePrefix.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        private String text(int from, int to) {
            return new String(buf, from, to - from, StandardCharsets.ISO_8859_1);
        }

        private void skip(long n) throws IOException {
            long left = n;
            while (left > limit - pos) {
                left -= limit - pos;
                pos = limit;
                compact();
                if (!fill()) {
                    throw new IOException("the server closed the connection mid-body");
                }
            }
            pos += (int) left;
        }

        /** Moves the unread bytes to the buffer's start; answers by how much they moved. */
        private int compact() {
            int shift = pos;
            if (shift > 0) {
                System.arraycopy(buf, pos, buf, 0, limit - pos);
                limit -= shift;
                pos = 0;
            }
            return shift;
        }

        private boolean fill() throws IOException {
            if (limit == buf.length) {
                throw new IOException("a response line longer than " + buf.length + " bytes");
            }
            int n = in.read(buf, limit, buf.length - limit);
            if (n < 0) {
                return false;
            }
            limit += n;
            return true;
        }
    }

    private static SSLContext trusting(Path caFile) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(caFile)) {
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trust.setCertificateEntry("ca-" + i++, c);
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }
}
