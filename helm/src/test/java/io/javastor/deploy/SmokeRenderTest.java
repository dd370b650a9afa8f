package io.javastor.deploy;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SmokeRenderTest {
    @Test
    void rendersSomething() throws Exception {
        String out = Chart.renderRaw(Chart.dir(), "");
        java.nio.file.Files.writeString(java.nio.file.Path.of("target/rendered-default.yaml"), out);
        assertThat(Chart.parseAll(out)).isNotEmpty();
    }
}
