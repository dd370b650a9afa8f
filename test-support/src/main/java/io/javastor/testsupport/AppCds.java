package io.javastor.testsupport;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Quicker starts of our exec jars in tests (each module's suite starts dozens of io-engines, core agents and
 * gateways): the jar extracted once by Spring Boot's own {@code -Djarmode=tools extract} (a thin jar and lib/, which
 * the JVM's class data sharing can archive, unlike a jar's nested jars) and an AppCDS archive of the classes a start
 * loads, made by one training run ({@code -XX:ArchiveClassesAtExit}, {@code -Dspring.context.exit=onRefresh}: the
 * context is built, no server starts, no port is bound). On a loaded 2-core machine an io-engine was ready in 9-12 s
 * from its jar and in 3.5-4 s this way. The same application, classes and arguments run: only where the JVM reads its
 * classes from changes.
 *
 * <p>Made once per jar (keyed by its content; kept beside it under {@code target/cds/}, which a clean build
 * removes and the container build context leaves out) and shared by the modules' suites, as the io-engine's jar is.
 * When it cannot be made, the reason is printed once and the plain jar is started ({@code -Djavastor.test.appcds=false}
 * does that on purpose).
 */
final class AppCds {
    private static final Map<Path, Optional<Launch>> LAUNCHES = new ConcurrentHashMap<>();

    /** The extracted jar and the archive its starts map. */
    record Launch(Path jar, Path archive) {
    }

    private AppCds() {
    }

    /**
     * The command line that runs {@code execJar} with these JVM options and arguments: from the extracted jar with its
     * archive when there is one (made now, by a training run with the same options and arguments, if needed), else
     * from the jar itself.
     */
    static List<String> command(Path execJar, List<String> jvmOptions, List<String> args) {
        Optional<Launch> launch = Boolean.parseBoolean(System.getProperty("javastor.test.appcds", "true"))
                ? LAUNCHES.computeIfAbsent(execJar.toAbsolutePath().normalize(), jar -> prepare(jar, jvmOptions, args))
                : Optional.empty();
        if (launch.isEmpty()) {
            return JavaProcess.command(new JavaProcess.Program(List.of("-jar", execJar.toString())), jvmOptions, args);
        }
        List<String> jvm = new ArrayList<>(jvmOptions);
        jvm.add("-XX:SharedArchiveFile=" + launch.get().archive());
        return JavaProcess.command(new JavaProcess.Program(List.of("-jar", launch.get().jar().toString())), jvm, args);
    }

    private static Optional<Launch> prepare(Path execJar, List<String> jvmOptions, List<String> args) {
        String name = execJar.getFileName().toString().replaceFirst("\\.jar$", "");
        Path dir = execJar.resolveSibling("cds").resolve(name);
        try {
            Files.createDirectories(dir.getParent());
            // Another JVM (a second Maven run in the same tree) may be making it: one at a time, the second reuses it.
            try (FileChannel lockFile = FileChannel.open(dir.getParent().resolve(name + ".lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock ignored = lockFile.lock()) {
                String stamp = digest(execJar);
                Launch launch = new Launch(dir.resolve(execJar.getFileName()), dir.resolve("app.jsa"));
                Path stampFile = dir.resolve("stamp");
                if (Files.exists(stampFile) && Files.readString(stampFile).equals(stamp) && Files.exists(launch.archive())) {
                    return Optional.of(launch);
                }
                long t0 = System.nanoTime();
                Path work = dir.resolveSibling(name + ".new");
                deleteTree(work);
                Files.createDirectories(work);
                Path log = dir.resolveSibling(name + ".log"); // not in work: extract wants an empty folder
                Files.deleteIfExists(log);
                run(List.of(JavaProcess.java(), "-Djarmode=tools", "-jar", execJar.toString(), "extract", "--destination", work.toString()),
                        log, "extract " + execJar);
                List<String> training = new ArrayList<>(jvmOptions);
                training.add("-XX:ArchiveClassesAtExit=" + work.resolve("app.jsa"));
                training.add("-Dspring.context.exit=onRefresh");
                run(JavaProcess.command(new JavaProcess.Program(List.of("-jar", work.resolve(execJar.getFileName()).toString())), training, args),
                        log, "training run of " + execJar);
                if (!Files.exists(work.resolve("app.jsa"))) {
                    throw new IOException("the training run of " + execJar + " wrote no archive: " + tail(log));
                }
                Files.writeString(work.resolve("stamp"), stamp);
                deleteTree(dir);
                Files.move(work, dir, StandardCopyOption.ATOMIC_MOVE);
                System.out.printf("AppCds: %s extracted and its class archive made in %d s (%s)%n", execJar.getFileName(),
                        TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0), dir);
                return Optional.of(launch);
            }
        } catch (IOException e) {
            System.out.println("AppCds: starting " + execJar + " without a class archive: " + e.getMessage());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while preparing " + execJar, e);
        }
    }

    private static void run(List<String> command, Path log, String what) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly().waitFor();
            throw new IOException(what + " did not end within 5 minutes: " + tail(log));
        }
        if (p.exitValue() != 0) {
            throw new IOException(what + " exited with " + p.exitValue() + ": " + tail(log));
        }
    }

    /** The jar's content (a rebuilt jar with the same content keeps its archive; a changed one gets a new one). */
    private static String digest(Path jar) throws IOException {
        try (var in = Files.newInputStream(jar)) {
            java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
            }
            return java.util.HexFormat.of().formatHex(sha.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static String tail(Path log) throws IOException {
        String s = Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "(no output)";
        return s.length() > 3000 ? s.substring(s.length() - 3000) : s;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
