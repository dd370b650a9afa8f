package io.javastor.gateway.node;

import java.util.List;
import java.util.Map;

import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import io.javastor.api.core.v1.CordonNodeRequest;
import io.javastor.api.core.v1.GetNodeRequest;
import io.javastor.api.core.v1.ListNodesRequest;
import io.javastor.api.core.v1.SetNodeLabelsRequest;
import io.javastor.api.core.v1.UncordonNodeRequest;
import io.javastor.gateway.coreclient.CoreAgentClient;
import io.javastor.gateway.errors.ApiException;
import io.javastor.gateway.errors.ErrorKind;
import io.javastor.gateway.validation.InputRules;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;

@RestController
@RequestMapping("/v0")
@Tag(name = "Nodes")
public class NodeController {

    private final CoreAgentClient agent;

    public NodeController(CoreAgentClient agent) {
        this.agent = agent;
    }

    @GetMapping("/nodes")
    public List<Node> getNodes() {
        return agent.idempotent(s -> s.nodes().listNodes(ListNodesRequest.getDefaultInstance())).getNodesList().stream()
                .map(Node::from).toList();
    }

    @GetMapping("/nodes/{id}")
    public Node getNode(@PathVariable String id) {
        String node = InputRules.nodeId("id", id);
        return Node.from(agent.idempotent(s -> s.nodes().getNode(GetNodeRequest.newBuilder().setId(node).build())));
    }

    @Operation(summary = "The node's disks and partitions, read from its io-engine now; all=true also lists those a pool cannot go "
            + "on, each with the reason")
    @GetMapping("/nodes/{id}/block_devices")
    public List<BlockDevice> getNodeBlockDevices(@PathVariable String id,
            @RequestParam(name = "all", required = false, defaultValue = "false") boolean all) {
        String node = InputRules.nodeId("id", id);
        return agent.idempotent(s -> s.nodes().listBlockDevices(io.javastor.api.core.v1.ListBlockDevicesRequest.newBuilder()
                .setNodeId(node).setAll(all).build())).getDevicesList().stream().map(BlockDevice::from).toList();
    }

    @Operation(summary = "Cordon the node with this label: it takes no new replicas or nexuses while any cordon label is set")
    @PutMapping("/nodes/{id}/cordon/{label}")
    public Node putNodeCordon(@PathVariable String id, @PathVariable String label) {
        String node = InputRules.nodeId("id", id);
        String l = InputRules.labelKey("label", label);
        return Node.from(agent.idempotent(s -> s.nodes().cordonNode(CordonNodeRequest.newBuilder().setId(node).setLabel(l).build())));
    }

    @Operation(summary = "Drain the node with this label: it is cordoned, its volumes' targets move to other nodes one at a time "
            + "(hosts follow through their path agent), and it reports draining while it holds nexuses, drained when none is left")
    @PutMapping("/nodes/{id}/drain/{label}")
    public Node putNodeDrain(@PathVariable String id, @PathVariable String label) {
        String node = InputRules.nodeId("id", id);
        String l = InputRules.labelKey("label", label);
        return Node.from(agent.idempotent(s -> s.nodes().drainNode(
                io.javastor.api.core.v1.DrainNodeRequest.newBuilder().setId(node).setLabel(l).build())));
    }

    @Operation(summary = "Remove a cordon or drain label; the node takes new replicas and nexuses again once none is left")
    @DeleteMapping("/nodes/{id}/cordon/{label}")
    public Node deleteNodeCordon(@PathVariable String id, @PathVariable String label) {
        String node = InputRules.nodeId("id", id);
        String l = InputRules.labelKey("label", label);
        return Node.from(agent.idempotent(s -> s.nodes().uncordonNode(UncordonNodeRequest.newBuilder().setId(node).setLabel(l).build())));
    }

    @Operation(summary = "Set a label (path segment key=value). An existing key with another value needs overwrite=true (else 412)")
    @PutMapping("/nodes/{id}/label/{label}")
    public Node putNodeLabel(@PathVariable String id,
            @Parameter(description = "key=value", example = "zone=a") @PathVariable String label,
            @RequestParam(name = "overwrite", required = false, defaultValue = "false") boolean overwrite) {
        String node = InputRules.nodeId("id", id);
        Map.Entry<String, String> kv = InputRules.keyEqualsValue("label", label);
        if (!overwrite) {
            var current = agent.idempotent(s -> s.nodes().getNode(GetNodeRequest.newBuilder().setId(node).build()));
            String existing = current.getLabelsMap().get(kv.getKey());
            if (existing != null && !existing.equals(kv.getValue())) {
                throw new ApiException(ErrorKind.FailedPrecondition,
                        "label " + kv.getKey() + ": already set to '" + existing + "'; use overwrite=true", "overwrite");
            }
        }
        return Node.from(agent.idempotent(s -> s.nodes().setNodeLabels(
                SetNodeLabelsRequest.newBuilder().setId(node).putLabels(kv.getKey(), kv.getValue()).build())));
    }

    @Operation(summary = "Remove a label; removing one that is not set succeeds")
    @DeleteMapping("/nodes/{id}/label/{key}")
    public Node deleteNodeLabel(@PathVariable String id, @PathVariable String key) {
        String node = InputRules.nodeId("id", id);
        String k = InputRules.labelKey("key", key);
        // An empty value removes the key (core.proto SetNodeLabels).
        return Node.from(agent.idempotent(s -> s.nodes().setNodeLabels(SetNodeLabelsRequest.newBuilder().setId(node).putLabels(k, "").build())));
    }
}
