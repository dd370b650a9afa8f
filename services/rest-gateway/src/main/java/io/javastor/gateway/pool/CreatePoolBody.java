package io.javastor.gateway.pool;

import java.util.List;
import java.util.Map;

import io.swagger.v3.oas.annotations.media.Schema;

@Schema(requiredProperties = {"disks"})
public record CreatePoolBody(
        @Schema(description = "disk URIs: uring:///dev/sdb, aio:///path, malloc:///name?size_mb=N (the io-engine takes one)",
                example = "[\"uring:///dev/sdb\"]") List<String> disks,
        Map<String, String> labels) {
}
