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
    // Surefire runs a module's test classes in parallel JVMs (javastor.test.fork = 1, 2, ...): each takes its
    // own slice, so one JVM's child cannot bind a port the other has just handed out to its own child.
    private static final int SLICES = 4;
    private static final int RANGE_LOW = 20000;
    private static final int RANGE_HIGH = 32767;
    private static final int SLICE = slice(System.getProperty("javastor.test.fork", ""));
    private static final int LOW = SLICE < 0 ? RANGE_LOW : RANGE_LOW + SLICE * ((RANGE_HIGH - RANGE_LOW + 1) / SLICES);
    private static final int HIGH = SLICE < 0 ? RANGE_HIGH : LOW + (RANGE_HIGH - RANGE_LOW + 1) / SLICES - 1;

    /** The slice of a fork ("fork-N", as the root pom passes surefire's fork number), or -1 (the whole range) outside one. */
    static int slice(String fork) {
        if (!fork.matches("fork-[1-9][0-9]{0,3}")) {
            return -1;
        }
        return (Integer.parseInt(fork.substring(5)) - 1) % SLICES;
    }

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
