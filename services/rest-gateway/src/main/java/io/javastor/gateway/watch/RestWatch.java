package io.javastor.gateway.watch;

import io.javastor.api.core.v1.VolumeWatch;
import io.swagger.v3.oas.annotations.media.Schema;

/** A callback registered on a resource, as Mayastor's v0 API shows it. */
@Schema(name = "RestWatch", requiredProperties = {"resource", "callback"})
public record RestWatch(
        @Schema(description = "the watched resource: volumes/<uuid>", example = "volumes/ec4e66fd-3b33-4439-b504-d49aba53da26") String resource,
        @Schema(description = "the URL called (HTTP PUT, empty body) when the resource changes") String callback) {

    static RestWatch from(VolumeWatch w) {
        return new RestWatch("volumes/" + w.getVolumeUuid(), w.getCallback());
    }
}
