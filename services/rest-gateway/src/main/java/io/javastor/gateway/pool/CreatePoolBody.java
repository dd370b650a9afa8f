package io.javastor.gateway.pool;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

@Schema(requiredProperties = {"disks"})
public record CreatePoolBody(
        @Schema(description = "disk URIs: uring:///dev/sdb, aio:///path, malloc:///name?size_mb=N (the io-engine takes one)",
                example = "[\"uring:///dev/sdb\"]") List<String> disks,
        Map<String, String> labels,
        @Schema(description = "the disk holds a filesystem, partition table, LVM or RAID metadata and may be erased; without it such a "
                + "disk is refused (412, naming what it holds) and left unchanged. GET /v0/nodes/{id}/block_devices shows what each holds")
        @JsonProperty("erase_existing") Boolean eraseExisting) {
}
