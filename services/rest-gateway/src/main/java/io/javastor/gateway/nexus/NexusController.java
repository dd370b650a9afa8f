package io.javastor.gateway.nexus;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.GetNodeRequest;
import io.javastor.api.core.v1.GetVolumeRequest;
import io.javastor.api.core.v1.ListVolumesRequest;
import io.javastor.gateway.coreclient.CoreAgentClient;
import io.javastor.gateway.errors.ApiException;
import io.javastor.gateway.errors.ErrorKind;
import io.javastor.gateway.validation.InputRules;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;

/**
 * Nexuses, as the targets of published volumes (read here; changed by publishing, unpublishing
 * and scaling the volume). Direct changes answer 409 InUse naming the volume.
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

    // ------------------------------------------------------------------ changes
    // The core agent keeps nexuses only as targets of volumes (same uuid). Changing one directly would
    // fight the volume's reconcilers, so a volume's nexus answers 409 InUse (publish, unpublish or scale
    // the volume instead); a nexus outside volumes cannot exist yet: creating one is 501, the rest 404.

    @Operation(summary = "Create a nexus outside any volume: not supported yet (501); a volume's uuid is 409 InUse "
            + "(publish the volume instead)")
    @PutMapping("/nodes/{node_id}/nexuses/{nexus_id}")
    public Nexus putNodeNexus(@PathVariable("node_id") String nodeId, @PathVariable("nexus_id") String nexusId,
            @RequestBody(required = false) Map<String, Object> body) {
        String node = InputRules.nodeId("node_id", nodeId);
        String uuid = InputRules.uuid("nexus_id", nexusId);
        requireNode(node);
        refuseVolumeTarget(uuid, "publish the volume");
        throw new ApiException(ErrorKind.NotImplemented, "nexus " + uuid + ": nexuses outside volumes are not supported; "
                + "create a volume and publish it", "nexus_id");
    }

    @Operation(summary = "Destroy a nexus: a volume's target is 409 InUse (unpublish the volume instead); any other is 404")
    @DeleteMapping("/nodes/{node_id}/nexuses/{nexus_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delNodeNexus(@PathVariable("node_id") String nodeId, @PathVariable("nexus_id") String nexusId) {
        String node = InputRules.nodeId("node_id", nodeId);
        refuseChange(node, InputRules.uuid("nexus_id", nexusId), "unpublish the volume");
    }

    @Operation(summary = "Destroy a nexus: a volume's target is 409 InUse (unpublish the volume instead); any other is 404")
    @DeleteMapping("/nexuses/{nexus_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delNexus(@PathVariable("nexus_id") String nexusId) {
        refuseChange(null, InputRules.uuid("nexus_id", nexusId), "unpublish the volume");
    }

    @GetMapping("/nodes/{node_id}/nexuses/{nexus_id}/children/{child_id}")
    public Nexus.Child getNodeNexusChild(@PathVariable("node_id") String nodeId, @PathVariable("nexus_id") String nexusId,
            @Parameter(description = "the child's URI (URL-encoded)") @PathVariable("child_id") String childId) {
        String node = InputRules.nodeId("node_id", nodeId);
        String uuid = InputRules.uuid("nexus_id", nexusId);
        String child = InputRules.required("child_id", childId);
        return one(uuid, node).children().stream().filter(c -> c.uri().equals(child)).findFirst()
                .orElseThrow(() -> ApiException.notFound("child " + child + " of nexus " + uuid));
    }

    @Operation(summary = "Add a child: a volume's target is 409 InUse (raise the volume's replica count instead); any other is 404")
    @PutMapping("/nodes/{node_id}/nexuses/{nexus_id}/children/{child_id}")
    public Nexus.Child putNodeNexusChild(@PathVariable("node_id") String nodeId, @PathVariable("nexus_id") String nexusId,
            @PathVariable("child_id") String childId) {
        String node = InputRules.nodeId("node_id", nodeId);
        String uuid = InputRules.uuid("nexus_id", nexusId);
        InputRules.required("child_id", childId);
        refuseChange(node, uuid, "change the volume's replica count");
        return null; // not reached: refuseChange always throws
    }

    @Operation(summary = "Remove a child: a volume's target is 409 InUse (lower the volume's replica count instead); any other is 404")
    @DeleteMapping("/nodes/{node_id}/nexuses/{nexus_id}/children/{child_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delNodeNexusChild(@PathVariable("node_id") String nodeId, @PathVariable("nexus_id") String nexusId,
            @PathVariable("child_id") String childId) {
        String node = InputRules.nodeId("node_id", nodeId);
        String uuid = InputRules.uuid("nexus_id", nexusId);
        InputRules.required("child_id", childId);
        refuseChange(node, uuid, "change the volume's replica count");
    }

    @Operation(summary = "Share a nexus: a volume's target is 409 InUse (publish the volume instead); any other is 404")
    @PutMapping("/nodes/{node_id}/nexuses/{nexus_id}/share/{protocol}")
    public String putNodeNexusShare(@PathVariable("node_id") String nodeId, @PathVariable("nexus_id") String nexusId,
            @PathVariable String protocol) {
        String node = InputRules.nodeId("node_id", nodeId);
        String uuid = InputRules.uuid("nexus_id", nexusId);
        if (!protocol.equals("nvmf")) {
            throw ApiException.invalid("protocol", "must be nvmf, got '" + protocol + "'");
        }
        refuseChange(node, uuid, "publish the volume");
        return null; // not reached
    }

    @Operation(summary = "Unshare a nexus: a volume's target is 409 InUse (unpublish the volume instead); any other is 404")
    @DeleteMapping("/nodes/{node_id}/nexuses/{nexus_id}/share")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delNodeNexusShare(@PathVariable("node_id") String nodeId, @PathVariable("nexus_id") String nexusId) {
        String node = InputRules.nodeId("node_id", nodeId);
        refuseChange(node, InputRules.uuid("nexus_id", nexusId), "unpublish the volume");
    }

    /** Always throws: 409 InUse for a volume's target, else 404 (no other nexus can exist). */
    private void refuseChange(String node, String uuid, String instead) {
        if (node != null) {
            requireNode(node);
        }
        refuseVolumeTarget(uuid, instead);
        throw ApiException.notFound("nexus " + uuid + (node == null ? "" : " on node " + node));
    }

    private void refuseVolumeTarget(String uuid, String instead) {
        try {
            agent.idempotent(s -> s.volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()));
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                return;
            }
            throw e;
        }
        throw new ApiException(ErrorKind.InUse, "nexus " + uuid + ": is the target of volume " + uuid + "; " + instead + " instead",
                "volume " + uuid);
    }

    private void requireNode(String node) {
        agent.idempotent(s -> s.nodes().getNode(GetNodeRequest.newBuilder().setId(node).build()));
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
