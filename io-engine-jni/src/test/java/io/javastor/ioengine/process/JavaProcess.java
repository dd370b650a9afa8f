package io.javastor.ioengine.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts a JVM child process on this test's classpath (real processes that tests can kill -9). */
public final class JavaProcess {
    private JavaProcess() {
    }

    public static String classpath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    public static ProcessBuilder builder(String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx512m");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-XX:TieredStopAtLevel=1");
        String lib = System.getProperty("javastor.native.lib");
        if (lib != null) {
            cmd.add("-Djavastor.native.lib=" + lib);
        }
        cmd.add("-cp");
        cmd.add(classpath());
        cmd.add(mainClass);
        cmd.addAll(args);
        return new ProcessBuilder(cmd);
    }

    // Ports come from below the kernel's ephemeral range (32768-60999 here), so an outgoing connection's
    // local port can never take one between this check and the child's bind, and a port handed out once is
    // never handed out again by this JVM (the OS reuses a just-closed ephemeral port, so two bind(0) probes
    // in a row can answer the same number: a process then collided with itself).
    private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static final int LOW = 20000;
    private static final int HIGH = 32767;

    /** A loopback port nothing listens on now and that this JVM has not handed out before. */
    public static int freePort() {
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

    /** SIGKILL, and wait until the process is gone. */
    public static void kill9(Process p) throws InterruptedException, IOException {
        new ProcessBuilder("kill", "-9", Long.toString(p.pid())).inheritIO().start().waitFor();
        p.waitFor();
    }
}
