package io.javastor.core.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.javastor.testsupport.IoEngineProcess;

/**
 * The engines every module's tests start from the io-engine's exec jar map the class archive test-support trains for
 * it on the first start (dozens of starts per module: each one without it costs seconds of CPU). An archive the JVM
 * refuses is dropped silently, so only its mapping shows it is used.
 */
class ExecJarClassArchiveTest {
    @TempDir
    Path dir;

    @Test
    void anEngineStartedFromItsExecJarMapsItsClassArchive() throws Exception {
        assumeTrue(Boolean.parseBoolean(System.getProperty("javastor.test.appcds", "true")),
                "-Djavastor.test.appcds=false starts the exec jars without class archives");
        try (IoEngineProcess engine = IoEngineProcess.fromJar("cds-check", "", dir)) {
            engine.start();
            String maps = Files.readString(Path.of("/proc/" + engine.process().pid() + "/maps"));
            assertThat(maps).as("the engine's JVM maps the archive trained for its exec jar")
                    .containsPattern("/cds/io-engine-[^/\\s]+-exec/app\\.jsa");
        }
    }
}
