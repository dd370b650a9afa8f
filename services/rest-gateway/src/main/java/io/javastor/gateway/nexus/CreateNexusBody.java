package io.javastor.gateway.nexus;

import java.util.List;

import io.swagger.v3.oas.annotations.media.Schema;

/** Mayastor v0's CreateNexusBody: the size in bytes and the children's URIs (bdev:///... or nvmf://...). */
@Schema(requiredProperties = {"size", "children"})
public record CreateNexusBody(Long size, List<String> children) {
}
