package io.javastor.gateway.nexus;

import java.util.ArrayList;
import java.util.List;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import io.javastor.api.core.v1.AddNexusChildRequest;
import io.javastor.api.core.v1.CreateNexusRequest;
import io.javastor.api.core.v1.DestroyNexusRequest;
import io.javastor.api.core.v1.GetNexusRequest;
import io.javastor.api.core.v1.ListNexusesRequest;
import io.javastor.api.core.v1.RemoveNexusChildRequest;
import io.javastor.api.core.v1.ShareNexusRequest;
import io.javastor.api.core.v1.UnshareNexusRequest;
import io.javastor.gateway.coreclient.CoreAgentClient;
import io.javastor.gateway.errors.ApiException;
import io.javastor.gateway.validation.InputRules;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import tools.jackson.databind.json.JsonMapper;

/**
 * Nexuses as their nodes report them (the core agent's observed inventory): volumes' targets and nexuses made
 * outside volumes. Only the latter are changed here; a volume's target answers 409 InUse naming the volume
 * (publish, unpublish or scale the volume instead: changing it directly would fight the volume's reconcilers).
 */
@RestController
@RequestMapping("/v0")
@Tag(name = "Nexuses")
public class NexusController {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final CoreAgentClient agent;

    public NexusController(CoreAgentClient agent) {
        this.agent = agent;
    }

    @GetMapping("/nexuses")
    public List<Nexus> getNexuses() {
        return list("");
    }

    @GetMapping("/nexuses/{nexus_id}")
    public Nexus getNexus(@PathVariable("nexus_id") String nexusId) {
        return one(InputRules.uuid("nexus_id", nexusId), "");
    }

    @Operation(summary = "Destroy a nexus made outside volumes; one that does not exist is fine. A volume's target is 409 InUse "
            + "(unpublish the volume instead)")
    @DeleteMapping("/nexuses/{nexus_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delNexus(@PathVariable("nexus_id") String nexusId) {
        destroy(InputRules.uuid("nexus_id", nexusId), "");
    }

    @Operation(summary = "The nexus's children as its node reports them, wherever the nexus lives")
    @GetMapping("/nexuses/{nexus_id}/children")
    public List<Nexus.Child> getNexusChildren(@PathVariable("nexus_id") String nexusId) {
        return one(InputRules.uuid("nexus_id", nexusId), "").children();
    }

    @GetMapping("/nexuses/{nexus_id}/children/{child_id}")
    public Nexus.Child getNexusChild(@PathVariable("nexus_id") String nexusId,
            @Parameter(description = "the child's URI, URL-encoded (bdev%3A%2F%2F%2F<uuid>)") @PathVariable("child_id") String childId) {
        String uuid = InputRules.uuid("nexus_id", nexusId);
        String child = InputRules.required("child_id", childId);
        return child(one(uuid, ""), child);
    }

    @Operation(summary = "Add a child (its rebuild starts) to a nexus made outside volumes, wherever it lives; adding one already "
            + "there succeeds. A volume's target is 409 InUse (raise the volume's replica count instead)")
    @PutMapping("/nexuses/{nexus_id}/children/{child_id}")
    public Nexus.Child putNexusChild(@PathVariable("nexus_id") String nexusId,
            @Parameter(description = "the child's URI, URL-encoded (bdev%3A%2F%2F%2F<uuid>)") @PathVariable("child_id") String childId) {
        String uuid = InputRules.uuid("nexus_id", nexusId);
        String child = InputRules.required("child_id", childId);
        var nexus = agent.idempotent(s -> s.nexuses().addNexusChild(AddNexusChildRequest.newBuilder().setUuid(uuid).setUri(child).build()));
        return child(Nexus.from(nexus), child);
    }

    @Operation(summary = "Remove a child from a nexus made outside volumes, wherever it lives; removing one not there succeeds, the "
            + "only child or the last healthy one is 412. A volume's target is 409 InUse (lower the volume's replica count instead)")
    @DeleteMapping("/nexuses/{nexus_id}/children/{child_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delNexusChild(@PathVariable("nexus_id") String nexusId,
            @Parameter(description = "the child's URI, URL-encoded (bdev%3A%2F%2F%2F<uuid>)") @PathVariable("child_id") String childId) {
        String uuid = InputRules.uuid("nexus_id", nexusId);
        String child = InputRules.required("child_id", childId);
        agent.idempotent(s -> s.nexuses().removeNexusChild(RemoveNexusChildRequest.newBuilder().setUuid(uuid).setUri(child).build()));
    }

    @GetMapping("/nodes/{id}/nexuses")
    public List<Nexus> getNodeNexuses(@PathVariable String id) {
        return list(InputRules.nodeId("id", id));
    }

    @GetMapping("/nodes/{node_id}/nexuses/{nexus_id}")
    public Nexus getNodeNexus(@PathVariable("node_id") String nodeId, @PathVariable("nexus_id") String nexusId) {
        String node = InputRules.nodeId("node_id", nodeId);
        return one(InputRules.uuid("nexus_id", nexusId), node);
    }

    @Operation(summary = "Create a nexus outside any volume over the children's URIs (bdev:///<replica uuid> on this node, or "
            + "nvmf://... of a shared replica); the same body again answers the same nexus, another body 409 AlreadyExists. "
            + "A volume's uuid is 409 InUse (publish the volume instead)")
    @PutMapping("/nodes/{node_id}/nexuses/{nexus_id}")
    public Nexus putNodeNexus(@PathVariable("node_id") String nodeId, @PathVariable("nexus_id") String nexusId,
            @RequestBody(required = false) CreateNexusBody body) {
        String node = InputRules.nodeId("node_id", nodeId);
        String uuid = InputRules.uuid("nexus_id", nexusId);
        InputRules.required("body", body);
        long size = InputRules.positiveSize("size", body.size());
        List<String> children = InputRules.required("children", body.children());
        if (children.isEmpty()) {
            throw ApiException.invalid("children", "at least one child URI is needed");
        }
        List<String> uris = new ArrayList<>();
        for (int i = 0; i < children.size(); i++) {
            uris.add(InputRules.required("children[" + i + "]", children.get(i)));
        }
        return Nexus.from(agent.idempotent(s -> s.nexuses().createNexus(CreateNexusRequest.newBuilder().setUuid(uuid).setNodeId(node)
                .setSize(size).addAllChildren(uris).build())));
    }

    @Operation(summary = "Destroy a nexus made outside volumes; one that does not exist is fine. A volume's target is 409 InUse "
            + "(unpublish the volume instead)")
    @DeleteMapping("/nodes/{node_id}/nexuses/{nexus_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delNodeNexus(@PathVariable("node_id") String nodeId, @PathVariable("nexus_id") String nexusId) {
        String node = InputRules.nodeId("node_id", nodeId);
        destroy(InputRules.uuid("nexus_id", nexusId), node);
    }

    @GetMapping("/nodes/{node_id}/nexuses/{nexus_id}/children")
    public List<Nexus.Child> getNodeNexusChildren(@PathVariable("node_id") String nodeId, @PathVariable("nexus_id") String nexusId) {
        String node = InputRules.nodeId("node_id", nodeId);
        return one(InputRules.uuid("nexus_id", nexusId), node).children();
    }

    @GetMapping("/nodes/{node_id}/nexuses/{nexus_id}/children/{child_id}")
    public Nexus.Child getNodeNexusChild(@PathVariable("node_id") String nodeId, @PathVariable("nexus_id") String nexusId,
            @Parameter(description = "the child's URI, URL-encoded (bdev%3A%2F%2F%2F<uuid>)") @PathVariable("child_id") String childId) {
        String node = InputRules.nodeId("node_id", nodeId);
        String uuid = InputRules.uuid("nexus_id", nexusId);
        String child = InputRules.required("child_id", childId);
        return child(one(uuid, node), child);
    }

    @Operation(summary = "Add a child (its rebuild starts) to a nexus made outside volumes; adding one already there succeeds. "
            + "A volume's target is 409 InUse (raise the volume's replica count instead)")
    @PutMapping("/nodes/{node_id}/nexuses/{nexus_id}/children/{child_id}")
    public Nexus.Child putNodeNexusChild(@PathVariable("node_id") String nodeId, @PathVariable("nexus_id") String nexusId,
            @Parameter(description = "the child's URI, URL-encoded (bdev%3A%2F%2F%2F<uuid>)") @PathVariable("child_id") String childId) {
        String node = InputRules.nodeId("node_id", nodeId);
        String uuid = InputRules.uuid("nexus_id", nexusId);
        String child = InputRules.required("child_id", childId);
        var nexus = agent.idempotent(s -> s.nexuses().addNexusChild(AddNexusChildRequest.newBuilder().setUuid(uuid).setNodeId(node)
                .setUri(child).build()));
        return child(Nexus.from(nexus), child);
    }

    @Operation(summary = "Remove a child from a nexus made outside volumes; removing one not there succeeds, the only child or the "
            + "last healthy one is 412. A volume's target is 409 InUse (lower the volume's replica count instead)")
    @DeleteMapping("/nodes/{node_id}/nexuses/{nexus_id}/children/{child_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delNodeNexusChild(@PathVariable("node_id") String nodeId, @PathVariable("nexus_id") String nexusId,
            @Parameter(description = "the child's URI, URL-encoded (bdev%3A%2F%2F%2F<uuid>)") @PathVariable("child_id") String childId) {
        String node = InputRules.nodeId("node_id", nodeId);
        String uuid = InputRules.uuid("nexus_id", nexusId);
        String child = InputRules.required("child_id", childId);
        agent.idempotent(s -> s.nexuses().removeNexusChild(RemoveNexusChildRequest.newBuilder().setUuid(uuid).setNodeId(node)
                .setUri(child).build()));
    }

    @Operation(summary = "Share a nexus made outside volumes over NVMe-oF/TCP; answers its nvmf:// URI. Sharing again succeeds. "
            + "A volume's target is 409 InUse (publish the volume instead)")
    @PutMapping(path = "/nodes/{node_id}/nexuses/{nexus_id}/share/{protocol}", produces = MediaType.APPLICATION_JSON_VALUE)
    public ResponseEntity<String> putNodeNexusShare(@PathVariable("node_id") String nodeId, @PathVariable("nexus_id") String nexusId,
            @PathVariable String protocol,
            @Parameter(description = "host NQNs allowed to connect, comma-separated, at least one; each authenticates with its "
                    + "own DH-HMAC-CHAP pair (./javastor host-secrets NEXUS_UUID HOST)")
            @RequestParam(name = "allowed-hosts", required = false) List<String> allowedHosts) {
        String node = InputRules.nodeId("node_id", nodeId);
        String uuid = InputRules.uuid("nexus_id", nexusId);
        if (!protocol.equals("nvmf")) {
            throw ApiException.invalid("protocol", "must be nvmf, got '" + protocol + "'");
        }
        List<String> hosts = InputRules.namedHostNqns("allowed-hosts", allowedHosts);
        var shared = agent.idempotent(s -> s.nexuses().shareNexus(ShareNexusRequest.newBuilder().setUuid(uuid).setNodeId(node)
                .addAllAllowedHosts(hosts).build()));
        // Mayastor answers the URI as a JSON string.
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(JSON.writeValueAsString(shared.getDeviceUri()));
    }

    @Operation(summary = "Stop sharing a nexus made outside volumes; unsharing one that is not shared succeeds. A volume's target "
            + "is 409 InUse (unpublish the volume instead)")
    @DeleteMapping("/nodes/{node_id}/nexuses/{nexus_id}/share")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delNodeNexusShare(@PathVariable("node_id") String nodeId, @PathVariable("nexus_id") String nexusId) {
        String node = InputRules.nodeId("node_id", nodeId);
        String uuid = InputRules.uuid("nexus_id", nexusId);
        agent.idempotent(s -> s.nexuses().unshareNexus(UnshareNexusRequest.newBuilder().setUuid(uuid).setNodeId(node).build()));
    }

    private List<Nexus> list(String node) {
        return agent.idempotent(s -> s.nexuses().listNexuses(ListNexusesRequest.newBuilder().setNodeId(node).build())).getNexusesList()
                .stream().map(Nexus::from).toList();
    }

    private Nexus one(String uuid, String node) {
        return Nexus.from(agent.idempotent(s -> s.nexuses().getNexus(GetNexusRequest.newBuilder().setUuid(uuid).setNodeId(node).build())));
    }

    private void destroy(String uuid, String node) {
        agent.once(s -> s.nexuses().destroyNexus(DestroyNexusRequest.newBuilder().setUuid(uuid).setNodeId(node).build()));
    }

    private static Nexus.Child child(Nexus nexus, String uri) {
        return nexus.children().stream().filter(c -> c.uri().equals(uri)).findFirst()
                .orElseThrow(() -> ApiException.notFound("child " + uri + " of nexus " + nexus.uuid()));
    }
}
