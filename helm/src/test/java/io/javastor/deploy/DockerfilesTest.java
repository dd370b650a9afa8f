package io.javastor.deploy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
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
        assertThat(stages).hasSize(2);
        assertThat(stages.get(0)).contains("AS build");
        assertThat(text).contains("ARG MAVEN_IMAGE=maven:3.9-eclipse-temurin-17").contains("ARG JRE_IMAGE=eclipse-temurin:17-jre");
        assertThat(text).contains("COPY --from=build").contains("HEALTHCHECK").contains("ENTRYPOINT [\"java\"");
        Matcher module = MVN_MODULE.matcher(text);
        assertThat(module.find()).as("builds one module with -pl ... -am").isTrue();
        // The jar the image copies is the module's Spring Boot -exec jar.
        assertThat(text).contains(module.group(1) + "/target/");
        assertThat(text).contains("-exec.jar");
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

    @Test
    void dockerignoreKeepsBuildOutputOutAndTheReactorComplete() throws IOException {
        List<String> lines = Files.readAllLines(Chart.repoRoot().resolve(".dockerignore"));
        assertThat(lines).contains(".git", "**/target", "helm/*", "!helm/pom.xml");
        // Every module the root pom lists must stay in the context, or Maven refuses the reactor.
        String pom = Files.readString(Chart.repoRoot().resolve("pom.xml"));
        Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(pom);
        while (m.find()) {
            String module = m.group(1);
            assertThat(lines).as("module " + module + " excluded from the Docker context")
                    .doesNotContain(module, module + "/", module + "/**");
        }
        assertThat(Arrays.asList("docker/", "docker-compose.yml")).allMatch(lines::contains);
    }
}
