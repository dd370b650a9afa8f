package io.javastor.gateway.nexus;

import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import io.javastor.api.core.v1.GetNodeRequest;
import io.javastor.api.core.v1.GetVolumeRequest;
import io.javastor.api.core.v1.ListVolumesRequest;
import io.javastor.gateway.coreclient.CoreAgentClient;
import io.javastor.gateway.errors.ApiException;
import io.javastor.gateway.validation.InputRules;
import io.swagger.v3.oas.annotations.tags.Tag;

/**
 * Nexuses, read-only, as the targets of published volumes. Creating, destroying or sharing a
 * nexus directly has no core-agent RPC: publish and unpublish the volume instead.
 */
@RestController
@RequestMapping("/v0")
@Tag(name = "Nexuses")
public class NexusController {

    private final CoreAgentClient agent;

    public NexusController(CoreAgentClient agent) {
        this.agent = agent;
    }

    @GetMapping("/nexuses")
    public List<Nexus> getNexuses() {
        return nexuses(n -> true);
    }

    @GetMapping("/nexuses/{nexus_id}")
    public Nexus getNexus(@PathVariable("nexus_id") String nexusId) {
        String uuid = InputRules.uuid("nexus_id", nexusId);
        return one(uuid, null);
    }

    @GetMapping("/nodes/{id}/nexuses")
    public List<Nexus> getNodeNexuses(@PathVariable String id) {
        String node = InputRules.nodeId("id", id);
        agent.idempotent(s -> s.nodes().getNode(GetNodeRequest.newBuilder().setId(node).build()));
        return nexuses(n -> n.node().equals(node));
    }

    @GetMapping("/nodes/{node_id}/nexuses/{nexus_id}")
    public Nexus getNodeNexus(@PathVariable("node_id") String nodeId, @PathVariable("nexus_id") String nexusId) {
        String node = InputRules.nodeId("node_id", nodeId);
        String uuid = InputRules.uuid("nexus_id", nexusId);
        return one(uuid, node);
    }

    @GetMapping("/nodes/{node_id}/nexuses/{nexus_id}/children")
    public List<Nexus.Child> getNodeNexusChildren(@PathVariable("node_id") String nodeId, @PathVariable("nexus_id") String nexusId) {
        String node = InputRules.nodeId("node_id", nodeId);
        String uuid = InputRules.uuid("nexus_id", nexusId);
        return one(uuid, node).children();
    }

    private List<Nexus> nexuses(Predicate<Nexus> filter) {
        return agent.idempotent(s -> s.volumes().listVolumes(ListVolumesRequest.getDefaultInstance())).getVolumesList().stream()
                .map(Nexus::of).filter(Objects::nonNull).filter(filter).toList();
    }

    private Nexus one(String uuid, String node) {
        var volume = agent.idempotent(s -> s.volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()));
        Nexus nexus = Nexus.of(volume);
        if (nexus == null || (node != null && !nexus.node().equals(node))) {
            throw ApiException.notFound("nexus " + uuid + (node == null ? "" : " on node " + node));
        }
        return nexus;
    }
}
