package io.javastor.testsupport;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The real REST gateway (its exec jar, {@link JavaProcess#GATEWAY_JAR}) in its own JVM on a free loopback port. */
public final class RestGatewayProcess implements AutoCloseable {
    private final int port = FreePorts.next();
    private final JavaProcess process;

    public RestGatewayProcess(String coreAgentAddress, Path logDir) {
        this.process = new JavaProcess("rest-gateway", JavaProcess.Program.jar(JavaProcess.GATEWAY_JAR), List.of("-Xmx256m"),
                List.of("--server.address=127.0.0.1", "--server.port=" + port,
                        "--javastor.gateway.core-agent.addresses=" + coreAgentAddress,
                        "--javastor.gateway.core-agent.call-timeout=20s"),
                logDir.resolve("rest-gateway.log"), () -> JavaProcess.httpOk(url() + "/actuator/health/readiness"), Duration.ofSeconds(180));
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public RestGatewayProcess start() throws IOException {
        process.start();
        return this;
    }

    public void kill9() throws IOException, InterruptedException {
        process.kill9();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        process.stop();
    }
}
