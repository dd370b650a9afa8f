package io.javastor.gateway.appnode;

import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import io.javastor.api.core.v1.DeregisterAppNodeRequest;
import io.javastor.api.core.v1.GetAppNodeRequest;
import io.javastor.api.core.v1.ListAppNodesRequest;
import io.javastor.api.core.v1.RegisterAppNodeRequest;
import io.javastor.gateway.coreclient.CoreAgentClient;
import io.javastor.gateway.errors.ApiException;
import io.javastor.gateway.validation.InputRules;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;

/**
 * Mayastor's v0 app nodes: the nodes applications run on, registered by their CSI node plugins (which register
 * themselves at start). The CSI controller publishes a volume only to a registered app node.
 */
@RestController
@RequestMapping("/v0")
@Tag(name = "AppNodes")
public class AppNodeController {

    private final CoreAgentClient agent;

    public AppNodeController(CoreAgentClient agent) {
        this.agent = agent;
    }

    @Operation(summary = "List app nodes, ordered by id, in pages")
    @GetMapping("/app-nodes")
    public AppNodePage getAppNodes(
            @Parameter(description = "at most this many entries; absent or 0: all") @RequestParam(name = "max_entries", required = false) Integer maxEntries,
            @Parameter(description = "the next_token of the previous page; absent: from the start") @RequestParam(name = "starting_token", required = false) Long startingToken) {
        int max = InputRules.nonNegative("max_entries", maxEntries, 0);
        if (startingToken != null && startingToken < 0) {
            throw ApiException.invalid("starting_token", "must not be negative, got " + startingToken);
        }
        long start = startingToken == null ? 0 : startingToken;
        var page = agent.idempotent(s -> s.appNodes().listAppNodes(ListAppNodesRequest.newBuilder().setMaxEntries(max)
                .setStartingToken(start).build()));
        return new AppNodePage(page.getAppNodesList().stream().map(AppNode::from).toList(), page.hasNextToken() ? page.getNextToken() : null);
    }

    @Operation(summary = "The app node; 404 when it is not registered")
    @GetMapping("/app-nodes/{app_node_id}")
    public AppNode getAppNode(@PathVariable("app_node_id") String appNodeId) {
        String id = InputRules.nodeId("app_node_id", appNodeId);
        return AppNode.from(agent.idempotent(s -> s.appNodes().getAppNode(GetAppNodeRequest.newBuilder().setId(id).build())));
    }

    @Operation(summary = "Register an app node, or replace its endpoint and labels (a node plugin restarted elsewhere registers "
            + "again); the same registration again changes nothing")
    @PutMapping("/app-nodes/{app_node_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void registerAppNode(@PathVariable("app_node_id") String appNodeId, @RequestBody RegisterAppNodeBody body) {
        String id = InputRules.nodeId("app_node_id", appNodeId);
        InputRules.required("body", body);
        String endpoint = InputRules.required("endpoint", body.endpoint());
        var labels = InputRules.labels("labels", body.labels());
        agent.idempotent(s -> s.appNodes().registerAppNode(RegisterAppNodeRequest.newBuilder().setId(id).setEndpoint(endpoint)
                .putAllLabels(labels).build()));
    }

    @Operation(summary = "Deregister an app node; one that is not registered is fine")
    @DeleteMapping("/app-nodes/{app_node_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void deregisterAppNode(@PathVariable("app_node_id") String appNodeId) {
        String id = InputRules.nodeId("app_node_id", appNodeId);
        agent.idempotent(s -> s.appNodes().deregisterAppNode(DeregisterAppNodeRequest.newBuilder().setId(id).build()));
    }
}
