package io.javastor.gateway.appnode;

import java.util.Map;

import io.swagger.v3.oas.annotations.media.Schema;

@Schema(name = "RegisterAppNode", requiredProperties = {"endpoint"})
public record RegisterAppNodeBody(
        @Schema(description = "where the node plugin serves: host:port, or unix:///path", example = "10.1.0.5:50055") String endpoint,
        @Schema(description = "labels of the app node") Map<String, String> labels) {
}
