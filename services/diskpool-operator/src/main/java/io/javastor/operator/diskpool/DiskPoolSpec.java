package io.javastor.operator.diskpool;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;

/** What the user asks for: a pool on {@code node} made of {@code disks} (disk URIs; one for now). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DiskPoolSpec(String node, List<String> disks) {
}
