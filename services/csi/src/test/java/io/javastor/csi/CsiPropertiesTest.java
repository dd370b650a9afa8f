package io.javastor.csi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.handler.NoUnboundElementsBindHandler;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** The settings as a chart or compose file writes them. */
class CsiPropertiesTest {

    private static CsiProperties bind(Map<String, String> settings) {
        Binder binder = new Binder(new MapConfigurationPropertySource(settings));
        return binder.bind("javastor.csi", Bindable.of(CsiProperties.class), new NoUnboundElementsBindHandler(org.springframework.boot.context.properties.bind.BindHandler.DEFAULT)).get();
    }

    @Test
    void theEndpointIsAPathOrAUnixUrlAsTheSidecarsWriteIt() {
        assertThat(bind(Map.of("javastor.csi.endpoint", "unix:///csi/csi.sock")).socketPath()).isEqualTo(Path.of("/csi/csi.sock"));
        assertThat(bind(Map.of("javastor.csi.endpoint", "/run/x.sock")).socketPath()).isEqualTo(Path.of("/run/x.sock"));
        CsiProperties p = bind(Map.of("javastor.csi.driver-name", "csi.example.org", "javastor.csi.ctrl-loss-timeout-seconds", "1980"));
        assertThat(p.getDriverName()).isEqualTo("csi.example.org");
        assertThat(p.getCtrlLossTimeoutSeconds()).isEqualTo(1980);
    }

    /** The application's own binding (ignoreUnknownFields = false), not a test-made binder, refuses the typo. */
    @Test
    void aMisspeltKeyStopsTheApplicationAndIsNamed() {
        new ApplicationContextRunner().withUserConfiguration(PropertiesOnly.class)
                .withPropertyValues("javastor.csi.nvme.ctrl-loss-tmo=1980")
                .run(context -> assertThat(context).hasFailed().getFailure()
                        .hasStackTraceContaining("nvme.ctrl-loss-tmo"));
        new ApplicationContextRunner().withUserConfiguration(PropertiesOnly.class)
                .withPropertyValues("javastor.csi.ctrl-loss-timeout-seconds=1980")
                .run(context -> assertThat(context).hasNotFailed().getBean(CsiProperties.class)
                        .extracting(CsiProperties::getCtrlLossTimeoutSeconds).isEqualTo(1980));
    }

    /** The same properties registration as {@link CsiApplication}, without starting gRPC servers. */
    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(CsiProperties.class)
    static class PropertiesOnly {
    }
}
