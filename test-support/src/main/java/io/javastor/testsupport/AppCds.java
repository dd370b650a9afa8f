package io.javastor.testsupport;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
    private static final Map<String, Optional<Launch>> LAUNCHES = new ConcurrentHashMap<>();
    /** "2": archives made before they were trained in place (never mapped) are made again. ./javastor reads it too. */
    private static final String STAMP_PREFIX = "2 ";

    /** How the JVM runs the program (the extracted jar, or the classpath in jars and the main class) and the archive its starts map. */
    record Launch(List<String> javaArgs, Path archive) {
    }

    private AppCds() {
    }

    /**
     * The command line that runs {@code program} with these JVM options and arguments: an exec jar as
     * {@link #command(Path, List, List)} does; a main class on the test's classpath with that classpath's folders
     * (target/classes, target/test-classes) put in jars first, as the JVM archives classes from jars only, and an
     * archive from a training run; anything else as it is.
     */
    static List<String> command(JavaProcess.Program program, List<String> jvmOptions, List<String> args) {
        if (program.jarFile() != null) {
            return command(program.jarFile(), jvmOptions, args);
        }
        List<String> java = program.javaArgs();
        if (!enabled() || java.size() != 3 || !java.get(0).equals("-cp")) {
            return JavaProcess.command(program, jvmOptions, args);
        }
        String classpath = java.get(1);
        String mainClass = java.get(2);
        Optional<Launch> launch = LAUNCHES.computeIfAbsent(mainClass + " -cp " + classpath,
                key -> prepareClasspath(classpath, mainClass, mainClass, jvmOptions, args));
        if (launch.isEmpty()) {
            return JavaProcess.command(program, jvmOptions, args);
        }
        List<String> jvm = new ArrayList<>(jvmOptions);
        jvm.add("-XX:SharedArchiveFile=" + launch.get().archive());
        return JavaProcess.command(new JavaProcess.Program(launch.get().javaArgs()), jvm, args);
    }

    /**
     * A class archive for a JVM that runs {@code mainClass} of this test's classpath elsewhere, on a VM guest that sees
     * this machine's files at the same paths: the classpath with its folders in jars and the archive of a training run
     * here with the guest's own JVM options (the archive is checked against them and against the jars). Kept apart from
     * the archives of the JVMs the tests start here (its own folder, {@code <main class>-guest}). Empty, the reason
     * printed, when it cannot be made or {@code -Djavastor.test.appcds=false}.
     */
    static Optional<Launch> forGuest(String mainClass, List<String> jvmOptions, List<String> trainingArgs) {
        if (!enabled()) {
            return Optional.empty();
        }
        String classpath = JavaProcess.classpath();
        return LAUNCHES.computeIfAbsent("guest " + mainClass + " -cp " + classpath,
                key -> prepareClasspath(classpath, mainClass, mainClass + "-guest", jvmOptions, trainingArgs));
    }

    private static boolean enabled() {
        return Boolean.parseBoolean(System.getProperty("javastor.test.appcds", "true"));
    }

    /**
     * The command line that runs {@code execJar} with these JVM options and arguments: from the extracted jar with its
     * archive when there is one (made now, by a training run with the same options and arguments, if needed), else
     * from the jar itself.
     */
    static List<String> command(Path execJar, List<String> jvmOptions, List<String> args) {
        Optional<Launch> launch = enabled()
                ? LAUNCHES.computeIfAbsent(execJar.toAbsolutePath().normalize().toString(),
                        jar -> prepare(Path.of(jar), jvmOptions, args, true))
                : Optional.empty();
        return command(execJar, launch, jvmOptions, args);
    }

    /** From the extracted jar with its archive, or from the jar itself when there is none. */
    private static List<String> command(Path execJar, Optional<Launch> launch, List<String> jvmOptions, List<String> args) {
        if (launch.isEmpty()) {
            return JavaProcess.command(new JavaProcess.Program(List.of("-jar", execJar.toString())), jvmOptions, args);
        }
        List<String> jvm = new ArrayList<>(jvmOptions);
        jvm.add("-XX:SharedArchiveFile=" + launch.get().archive());
        return JavaProcess.command(new JavaProcess.Program(launch.get().javaArgs()), jvm, args);
    }

    /**
     * As {@link #command(Path, List, List)}, but only with an archive a start of the same jar already made (whole: its
     * stamp names the jar's content); otherwise the plain jar, and nothing is trained: for a JVM run with arguments a
     * training run cannot use (a chart's, whose files and peers exist only for the test that renders it).
     */
    static List<String> commandIfArchived(Path execJar, List<String> jvmOptions, List<String> args) {
        Path jar = execJar.toAbsolutePath().normalize();
        Optional<Launch> launch = enabled()
                ? LAUNCHES.computeIfAbsent("made " + jar, key -> prepare(jar, List.of(), List.of(), false))
                : Optional.empty();
        return command(execJar, launch, jvmOptions, args);
    }

    /** The archive a start of this exec jar made before, when it is whole; none is made. */
    static Optional<Path> archiveOf(Path execJar) throws IOException {
        Path jar = execJar.toAbsolutePath().normalize();
        Path dir = folderOf(jar);
        return Files.isDirectory(dir) ? whole(jar, dir).map(Launch::archive) : Optional.empty();
    }

    /** Where a jar's extraction and archive live: {@code target/cds/<jar without .jar>} beside it. */
    private static Path folderOf(Path execJar) {
        return execJar.resolveSibling("cds").resolve(execJar.getFileName().toString().replaceFirst("\\.jar$", ""));
    }

    /** The archive of this jar: the one made before when whole, else (when {@code train}) made now by a training run. */
    private static Optional<Launch> prepare(Path execJar, List<String> jvmOptions, List<String> args, boolean train) {
        Path dir = folderOf(execJar);
        String name = dir.getFileName().toString();
        try {
            Files.createDirectories(dir.getParent());
            // Another JVM (a second Maven run in the same tree) may be making it: one at a time, the second reuses it.
            try (FileChannel lockFile = FileChannel.open(dir.getParent().resolve(name + ".lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock ignored = lockFile.lock()) {
                Optional<Launch> made = whole(execJar, dir);
                if (made.isPresent() || !train) {
                    if (made.isEmpty()) {
                        System.out.println("AppCds: " + execJar.getFileName()
                                + " has no class archive made by another test: started without one");
                    }
                    return made;
                }
                Launch launch = launchFrom(execJar, dir);
                long t0 = System.nanoTime();
                // Extracted and trained where it is used: the archive records the jars' paths and a JVM refuses it
                // when they differ (trained in a folder renamed afterwards, it was never mapped). The stamp, written
                // last, says it is whole; the lock keeps other JVMs out meanwhile.
                deleteTree(dir);
                Files.createDirectories(dir);
                Path log = dir.resolveSibling(name + ".log"); // not in dir: extract wants an empty folder
                Files.deleteIfExists(log);
                JavaProcess.extractBootJar(execJar, dir, log);
                List<String> training = new ArrayList<>(jvmOptions);
                training.add("-XX:ArchiveClassesAtExit=" + launch.archive());
                training.add("-Dspring.context.exit=onRefresh");
                run(JavaProcess.command(new JavaProcess.Program(launch.javaArgs()), training, trainingArgs(args)), log,
                        "training run of " + execJar);
                if (!Files.exists(launch.archive())) {
                    throw new IOException("the training run of " + execJar + " wrote no archive: " + tail(log));
                }
                Files.writeString(dir.resolve("stamp"), STAMP_PREFIX + digest(execJar));
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

    /** The extracted jar in {@code dir} and its archive, when the stamp written last says they are whole for this jar. */
    private static Optional<Launch> whole(Path execJar, Path dir) throws IOException {
        Launch launch = launchFrom(execJar, dir);
        Path stamp = dir.resolve("stamp");
        boolean whole = Files.exists(stamp) && Files.readString(stamp).equals(STAMP_PREFIX + digest(execJar))
                && Files.exists(launch.archive());
        return whole ? Optional.of(launch) : Optional.empty();
    }

    private static Launch launchFrom(Path execJar, Path dir) {
        return new Launch(List.of("-jar", dir.resolve(execJar.getFileName()).toString()), dir.resolve("app.jsa"));
    }

    /**
     * A main class on the test's classpath: its folders in jars under target/cds/ of the first folder's module, and an
     * archive from a training run. Made again unless a stamp names the same classpath, folder contents, JVM and JVM
     * options (the module's second test JVM, the VM tests', reuses the first one's: its training cost 9-11 s); as for
     * an exec jar, the options and arguments of later starts may differ from the training's.
     */
    private static Optional<Launch> prepareClasspath(String classpath, String mainClass, String name, List<String> jvmOptions, List<String> args) {
        List<String> entries = List.of(classpath.split(java.io.File.pathSeparator));
        Optional<Path> firstFolder = entries.stream().map(Path::of).filter(Files::isDirectory).findFirst();
        if (firstFolder.isEmpty()) {
            System.out.println("AppCds: starting " + mainClass + " without a class archive: no folder on its classpath to place it beside");
            return Optional.empty();
        }
        Path dir = firstFolder.get().toAbsolutePath().getParent().resolve("cds").resolve(name);
        try {
            Files.createDirectories(dir.getParent());
            try (FileChannel lockFile = FileChannel.open(dir.getParent().resolve(name + ".lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock ignored = lockFile.lock()) {
                long t0 = System.nanoTime();
                List<String> jars = new ArrayList<>();
                int n = 0;
                for (String e : entries) {
                    jars.add(Files.isDirectory(Path.of(e)) ? dir.resolve("folder-" + (n++) + ".jar").toString() : e);
                }
                String cp = String.join(java.io.File.pathSeparator, jars);
                String stamp = STAMP_PREFIX + classpathDigest(entries, jvmOptions);
                Path stampFile = dir.resolve("stamp");
                if (Files.exists(stampFile) && Files.readString(stampFile).equals(stamp) && Files.exists(dir.resolve("app.jsa"))) {
                    return Optional.of(new Launch(List.of("-cp", cp, mainClass), dir.resolve("app.jsa")));
                }
                deleteTree(dir);
                Files.createDirectories(dir);
                n = 0;
                for (String e : entries) {
                    if (Files.isDirectory(Path.of(e))) {
                        jarFolder(Path.of(e), dir.resolve("folder-" + (n++) + ".jar"));
                    }
                }
                Path cpFile = dir.resolve("classpath");
                Files.writeString(cpFile, cp);
                Path log = dir.resolveSibling(name + ".log");
                Files.deleteIfExists(log);
                List<String> training = new ArrayList<>(jvmOptions);
                training.add("-XX:ArchiveClassesAtExit=" + dir.resolve("app.jsa"));
                training.add("-Dspring.context.exit=onRefresh");
                run(JavaProcess.command(new JavaProcess.Program(List.of("-cp", cp, mainClass)), training, trainingArgs(args)), log,
                        "training run of " + mainClass);
                if (!Files.exists(dir.resolve("app.jsa"))) {
                    throw new IOException("the training run of " + mainClass + " wrote no archive: " + tail(log));
                }
                Files.writeString(stampFile, stamp);
                System.out.printf("AppCds: %s's classpath folders in jars and its class archive made in %d s (%s)%n", mainClass,
                        TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0), dir);
                return Optional.of(new Launch(List.of("-cp", cp, mainClass), dir.resolve("app.jsa")));
            }
        } catch (IOException e) {
            System.out.println("AppCds: starting " + mainClass + " without a class archive: " + e.getMessage());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while preparing " + mainClass, e);
        }
    }

    /**
     * The arguments of the training run: the first start's, without its io-engine disks, so that the run (which builds
     * the context, where an engine opens its disks) touches no pool of the test.
     */
    private static List<String> trainingArgs(List<String> args) {
        return args.stream().filter(a -> !a.startsWith("--javastor.io-engine.disks=")).toList();
    }

    private static void jarFolder(Path folder, Path jar) throws IOException {
        try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar)); Stream<Path> files = Files.walk(folder)) {
            out.setLevel(java.util.zip.Deflater.BEST_SPEED);
            for (Path f : files.sorted().toList()) {
                if (f.equals(folder)) {
                    continue;
                }
                String name = folder.relativize(f).toString().replace(java.io.File.separatorChar, '/');
                if (Files.isDirectory(f)) {
                    out.putNextEntry(new java.util.jar.JarEntry(name + "/"));
                } else {
                    out.putNextEntry(new java.util.jar.JarEntry(name));
                    Files.copy(f, out);
                }
                out.closeEntry();
            }
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

    /**
     * What a classpath archive was made from: the JVM and the training's options (an archive is checked against both),
     * the classpath, every file in its folders (path and content) and its jars' sizes and times (a rebuilt jar the JVM
     * would refuse the archive for), so changed classes get a new archive.
     */
    private static String classpathDigest(List<String> entries, List<String> jvmOptions) throws IOException {
        java.security.MessageDigest sha;
        try {
            sha = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
        sha.update((System.getProperty("java.home") + "\n" + System.getProperty("java.vm.version") + "\n").getBytes(StandardCharsets.UTF_8));
        sha.update((String.join("\n", jvmOptions) + "\n").getBytes(StandardCharsets.UTF_8));
        sha.update((String.join("\n", entries) + "\n").getBytes(StandardCharsets.UTF_8));
        for (String e : entries) {
            Path folder = Path.of(e);
            if (!Files.isDirectory(folder)) {
                if (Files.exists(folder)) {
                    sha.update((Files.size(folder) + " " + Files.getLastModifiedTime(folder).toMillis() + "\n").getBytes(StandardCharsets.UTF_8));
                }
                continue;
            }
            try (Stream<Path> files = Files.walk(folder)) {
                for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                    sha.update((folder.relativize(f) + "\n").getBytes(StandardCharsets.UTF_8));
                    byte[] content = Files.readAllBytes(f);
                    sha.update((content.length + "\n").getBytes(StandardCharsets.UTF_8));
                    sha.update(content);
                }
            }
        }
        return java.util.HexFormat.of().formatHex(sha.digest());
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
