package io.javastor.gateway.node;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

/**
 * A node's disk or partition (Mayastor's v0 BlockDevice shape, plus why it cannot take a pool).
 *
 * @param filesystem what it holds, when something was found
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@Schema(description = "a block device of a node, and whether a pool may be created on it")
public record BlockDevice(
        @Schema(example = "/dev/sdb") String devname,
        @Schema(allowableValues = {"disk", "partition"}) String devtype,
        int devmajor,
        int devminor,
        String model,
        @Schema(description = "sysfs path") String devpath,
        @Schema(description = "stable names (/dev/disk/by-id/..., by-path/...): use one of these in a pool's disks") List<String> devlinks,
        @Schema(description = "bytes") long size,
        Filesystem filesystem,
        @Schema(description = "a pool may be created on it now: on the node's allow-list, no partitions, not mounted or held, nothing on it")
        boolean available,
        @Schema(description = "why not, when not available") @JsonProperty("unavailable_reason") String unavailableReason) {

    /** What the device holds and where it is mounted (Mayastor's Filesystem). */
    public record Filesystem(@Schema(description = "what was found: a filesystem, a partition table, LVM, RAID, a Javastor pool") String fstype,
                             String mountpoint) {
    }

    static BlockDevice from(io.javastor.api.ioengine.v1.BlockDevice d) {
        Filesystem fs = d.getFilesystem().isEmpty() && d.getMountpoint().isEmpty() ? null : new Filesystem(d.getFilesystem(), d.getMountpoint());
        return new BlockDevice(d.getDevname(), d.getDevtype(), d.getDevmajor(), d.getDevminor(), d.getModel(), d.getDevpath(),
                d.getDevlinksList(), d.getSize(), fs, d.getAvailable(), d.getReason().isEmpty() ? null : d.getReason());
    }
}
