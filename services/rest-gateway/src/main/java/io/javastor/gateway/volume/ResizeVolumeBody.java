package io.javastor.gateway.volume;

import io.swagger.v3.oas.annotations.media.Schema;

@Schema(requiredProperties = {"size"})
public record ResizeVolumeBody(@Schema(description = "the new size in bytes; volumes only grow") Long size) {
}
