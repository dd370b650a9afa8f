package io.javastor.deploy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** Static checks of docker/*.Dockerfile (no Docker engine here to build them). */
class DockerfilesTest {
    private static final Path DOCKER = Chart.repoRoot().resolve("docker");
    private static final Pattern MVN_MODULE = Pattern.compile("mvn [^\\n]*-pl (\\S+) -am");

    @ParameterizedTest
    @ValueSource(strings = {"io-engine", "core-agent", "rest-gateway", "csi", "diskpool-operator"})
    void multiStageBuildOnJdkRunOnJreWithHealthCheck(String service) throws IOException {
        String text = Files.readString(DOCKER.resolve(service + ".Dockerfile"));
        List<String> stages = text.lines().filter(l -> l.startsWith("FROM ")).toList();
        // One build stage (the jar from source with Maven, or the host's prebuilt one, by APP_JAR; then its layers), one run stage.
        assertThat(stages).containsExactly("FROM ${MAVEN_IMAGE} AS build", "FROM ${JRE_IMAGE}");
        assertThat(text).contains("if [ \"$APP_JAR\" = prebuilt ]; then");
        assertThat(text).contains("ARG MAVEN_IMAGE=maven:3.9-eclipse-temurin-17").contains("ARG JRE_IMAGE=eclipse-temurin:17-jre")
                .contains("ARG APP_JAR=source");
        // podman 4.3's buildah has no heredocs: files come from the context or printf.
        assertThat(text).doesNotContain("<<");
        assertThat(text).contains("COPY --from=build").contains("HEALTHCHECK").contains("ENTRYPOINT [\"java\"");
        Matcher module = MVN_MODULE.matcher(text);
        assertThat(module.find()).as("builds one module with -pl ... -am").isTrue();
        // The jar the image copies is the module's Spring Boot -exec jar.
        assertThat(text).contains(module.group(1) + "/target/");
        assertThat(text).contains("-exec.jar");
    }

    @ParameterizedTest
    @ValueSource(strings = {"io-engine", "core-agent", "rest-gateway", "csi", "diskpool-operator"})
    void eachImageStartsFromTheClassArchiveItsBuildTrained(String service) throws IOException {
        String text = Files.readString(DOCKER.resolve(service + ".Dockerfile"));
        String runStage = text.substring(text.lastIndexOf("\nFROM "));
        // The thin layout a JVM can archive (app.jar and lib/), not the launcher's nested BOOT-INF/lib.
        assertThat(text).contains("extract --layers --application-filename app.jar --destination /layers").doesNotContain("--launcher");
        // Trained in the run stage itself (the archive must match that JVM and those jars), as root, before USER, by the
        // one script every Java image runs (ClassArchiveTrainingTest runs it).
        int training = runStage.indexOf("RUN --mount=type=bind,source=docker/cds-train.sh,target=/tmp/cds-train.sh \\\n"
                + "    sh /tmp/cds-train.sh " + service);
        assertThat(training).as("a training run in the run stage").isPositive();
        assertThat(Files.readString(DOCKER.resolve("cds-train.sh"))).contains("-XX:ArchiveClassesAtExit=\"$archive\"")
                .contains("archive=$app/app.jsa").contains("app=${CDS_APP_DIR:-/opt/javastor}")
                .contains("-Dspring.context.exit=onRefresh -jar \"$app/app.jar\" --javastor.tls.enabled=false");
        int user = runStage.indexOf("\nUSER ");
        assertThat(user < 0 || user > training).as("training before USER").isTrue();
        assertThat(runStage).contains("ENTRYPOINT [\"java\", \"-XX:SharedArchiveFile=/opt/javastor/app.jsa\", \"-Xlog:cds=off\", "
                + "\"-Xlog:cds+dynamic=off\", \"-jar\", \"/opt/javastor/app.jar\"]");
    }

    @ParameterizedTest
    @ValueSource(strings = {"core-agent", "rest-gateway", "csi", "diskpool-operator"})
    void servicesRunUnprivileged(String service) throws IOException {
        String text = Files.readString(DOCKER.resolve(service + ".Dockerfile"));
        String runStage = text.substring(text.lastIndexOf("\nFROM "));
        assertThat(runStage).containsPattern("\\nUSER 10001(:10001)?\\n");
    }

    @Test
    void ioEngineHasLiburingAtBuildAndRunTime() throws IOException {
        String text = Files.readString(DOCKER.resolve("io-engine.Dockerfile"));
        int run = text.lastIndexOf("\nFROM ");
        String build = text.substring(0, run);
        String runtime = text.substring(run);
        assertThat(build).contains("liburing-dev").contains("gcc").contains("make");
        assertThat(runtime).contains("liburing2").doesNotContain("liburing-dev").doesNotContain("gcc");
        assertThat(text).contains("-pl io-engine-jni -am");
    }

    @Test
    void ioEngineModuleIsInTheReactor() throws IOException {
        // The modules that exist today; rest-gateway and csi come later and are checked once they are listed.
        String pom = Files.readString(Chart.repoRoot().resolve("pom.xml"));
        assertThat(pom).contains("<module>io-engine-jni</module>").contains("<module>helm</module>");
        assertThat(Chart.repoRoot().resolve("io-engine-jni/pom.xml")).isRegularFile();
    }

    @ParameterizedTest
    @ValueSource(strings = {"jre", "etcd", "postgres"})
    void basesForMachinesWithoutARegistryAreDebianPackagesOnADebianImageArgument(String image) throws IOException {
        String text = Files.readString(DOCKER.resolve(image + ".Dockerfile"));
        assertThat(text).contains("ARG DEBIAN_IMAGE=debian:bookworm-slim").contains("FROM ${DEBIAN_IMAGE}")
                .contains("apt-get install -y --no-install-recommends").doesNotContain("<<");
        if (!image.equals("jre")) {
            assertThat(text.substring(text.lastIndexOf("\nFROM "))).containsPattern("\\nUSER (10001:10001|postgres)\\n");
        }
    }

    @Test
    void csiHealthCheckIsACsiProbeOverItsSocket() throws IOException {
        String text = Files.readString(DOCKER.resolve("csi.Dockerfile"));
        assertThat(text).contains("COPY docker/csi-probe.sh /usr/local/bin/csi-probe").contains("CMD [\"csi-probe\"]")
                .doesNotContain("actuator").doesNotContain("EXPOSE 9505");
        assertThat(Files.readString(DOCKER.resolve("csi-probe.sh"))).contains("csi.v1.Identity/Probe").contains("--http2-prior-knowledge");
    }

    @Test
    void ioEngineSeccompProfileIsTheDefaultPlusIoUringOnly() throws IOException {
        String text = Files.readString(DOCKER.resolve("seccomp-io-engine.json"));
        Map<String, Object> profile = Chart.parseOne(text);
        assertThat(profile.get("defaultAction")).isEqualTo("SCMP_ACT_ERRNO");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> rules = (List<Map<String, Object>>) profile.get("syscalls");
        List<Object> uring = rules.stream().filter(r -> ((List<?>) r.get("names")).stream().anyMatch(n -> n.toString().startsWith("io_uring")))
                .map(r -> (Object) r.get("names")).toList();
        assertThat(uring).containsExactly(List.of("io_uring_setup", "io_uring_enter", "io_uring_register"));
    }

    @Test
    void dockerignoreKeepsBuildOutputOutAndTheReactorComplete() throws IOException {
        List<String> lines = Files.readAllLines(Chart.repoRoot().resolve(".dockerignore"));
        assertThat(lines).contains(".git", "/target", "/*/target/*", "/services/*/target/*", "helm/*", "!helm/pom.xml");
        // Not **/target: it also drops source folders named target.
        assertThat(lines).doesNotContain("**/target", "**/target/", "target");
        // Images built with APP_JAR=prebuilt take the modules' -exec jars from the context.
        assertThat(lines).contains("!/*/target/*-exec.jar", "!/services/*/target/*-exec.jar");
        // Files images COPY from docker/ stay in the context.
        assertThat(lines).contains("docker/*", "!docker/cds-train.sh", "!docker/csi-probe.sh", "!docker/postgres-entrypoint.sh");
        // Every module the root pom lists must stay in the context, or Maven refuses the reactor.
        String pom = Files.readString(Chart.repoRoot().resolve("pom.xml"));
        Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(pom);
        while (m.find()) {
            String module = m.group(1);
            assertThat(lines).as("module " + module + " excluded from the Docker context")
                    .doesNotContain(module, module + "/", module + "/**");
        }
        assertThat(Arrays.asList("docker/*", "docker-compose.yml")).allMatch(lines::contains);
        // No folder named target below a module's src/ may be dropped: the patterns above are anchored to module roots.
        try (var walk = Files.walk(Chart.repoRoot())) {
            List<Path> sourceTargets = walk.filter(Files::isDirectory).filter(d -> d.getFileName().toString().equals("target"))
                    .map(Chart.repoRoot()::relativize).filter(d -> d.toString().contains("/src/")).toList();
            sourceTargets.forEach(d -> assertThat(d.getNameCount()).as(d + " must not match /*/target/* or /services/*/target/*").isGreaterThan(3));
        }
    }
}
