package io.javastor.testsupport;

/** Free loopback ports for tests' servers and child processes (every module's tests use this one picker). */
public final class FreePorts {
    private FreePorts() {
    }

    // Ports come from below the kernel's ephemeral range (32768-60999 here), so an outgoing connection's
    // local port can never take one between this check and the child's bind, and a port handed out once is
    // never handed out again by this JVM (the OS reuses a just-closed ephemeral port, so two bind(0) probes
    // in a row can answer the same number: a process then collided with itself).
    private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static final int LOW = 20000;
    private static final int HIGH = 32767;

    /** A loopback port nothing listens on now and that this JVM has not handed out before. */
    public static int next() {
        int span = HIGH - LOW + 1;
        int start = java.util.concurrent.ThreadLocalRandom.current().nextInt(span);
        for (int i = 0; i < span; i++) {
            int port = LOW + (start + i) % span;
            if (!HANDED_OUT.add(port)) {
                continue;
            }
            try (java.net.ServerSocket s = new java.net.ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            } catch (java.io.IOException busy) {
                // in use by another process: try the next one
            }
        }
        throw new IllegalStateException("no free loopback port in " + LOW + "-" + HIGH);
    }
}
