package io.javastor.gateway.pool;

import java.util.List;
import java.util.Map;

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

import io.javastor.api.core.v1.CreatePoolRequest;
import io.javastor.api.core.v1.DestroyPoolRequest;
import io.javastor.api.core.v1.GetNodeRequest;
import io.javastor.api.core.v1.GetPoolRequest;
import io.javastor.api.core.v1.ListPoolsRequest;
import io.javastor.api.core.v1.SetPoolLabelsRequest;
import io.javastor.gateway.coreclient.CoreAgentClient;
import io.javastor.gateway.errors.ApiException;
import io.javastor.gateway.errors.ErrorKind;
import io.javastor.gateway.validation.InputRules;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;

@RestController
@RequestMapping("/v0")
@Tag(name = "Pools")
public class PoolController {

    private final CoreAgentClient agent;

    public PoolController(CoreAgentClient agent) {
        this.agent = agent;
    }

    @GetMapping("/pools")
    public List<Pool> getPools() {
        return agent.idempotent(s -> s.pools().listPools(ListPoolsRequest.getDefaultInstance())).getPoolsList().stream()
                .map(Pool::from).toList();
    }

    @GetMapping("/pools/{pool_id}")
    public Pool getPool(@PathVariable("pool_id") String poolId) {
        String id = InputRules.poolId("pool_id", poolId);
        return Pool.from(agent.idempotent(s -> s.pools().getPool(GetPoolRequest.newBuilder().setId(id).build())));
    }

    @Operation(summary = "Destroy a pool; 409 InUse while it holds replicas; destroying a pool that is gone succeeds")
    @DeleteMapping("/pools/{pool_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delPool(@PathVariable("pool_id") String poolId) {
        String id = InputRules.poolId("pool_id", poolId);
        agent.idempotent(s -> s.pools().destroyPool(DestroyPoolRequest.newBuilder().setId(id).build()));
    }

    @Operation(summary = "Set a pool label (path segment key=value), matched by volumes' pool topology from the next placement on. "
            + "An existing key with another value needs overwrite=true (else 412)")
    @PutMapping("/pools/{pool_id}/label/{label}")
    public Pool putPoolLabel(@PathVariable("pool_id") String poolId,
            @Parameter(description = "key=value", example = "tier=ssd") @PathVariable String label,
            @RequestParam(name = "overwrite", required = false, defaultValue = "false") boolean overwrite) {
        String id = InputRules.poolId("pool_id", poolId);
        Map.Entry<String, String> kv = InputRules.keyEqualsValue("label", label);
        if (!overwrite) {
            var current = agent.idempotent(s -> s.pools().getPool(GetPoolRequest.newBuilder().setId(id).build()));
            String existing = current.getLabelsMap().get(kv.getKey());
            if (existing != null && !existing.equals(kv.getValue())) {
                throw new ApiException(ErrorKind.FailedPrecondition,
                        "label " + kv.getKey() + ": already set to '" + existing + "'; use overwrite=true", "overwrite");
            }
        }
        return Pool.from(agent.idempotent(s -> s.pools().setPoolLabels(
                SetPoolLabelsRequest.newBuilder().setId(id).putLabels(kv.getKey(), kv.getValue()).build())));
    }

    @Operation(summary = "Remove a pool label; removing one that is not set succeeds")
    @DeleteMapping("/pools/{pool_id}/label/{key}")
    public Pool delPoolLabel(@PathVariable("pool_id") String poolId, @PathVariable String key) {
        String id = InputRules.poolId("pool_id", poolId);
        String k = InputRules.labelKey("key", key);
        // An empty value removes the key (core.proto SetPoolLabels).
        return Pool.from(agent.idempotent(s -> s.pools().setPoolLabels(SetPoolLabelsRequest.newBuilder().setId(id).putLabels(k, "").build())));
    }

    @GetMapping("/nodes/{id}/pools")
    public List<Pool> getNodePools(@PathVariable String id) {
        String node = InputRules.nodeId("id", id);
        // The agent lists nothing for an unknown node; a REST caller expects 404 for it.
        agent.idempotent(s -> s.nodes().getNode(GetNodeRequest.newBuilder().setId(node).build()));
        return agent.idempotent(s -> s.pools().listPools(ListPoolsRequest.newBuilder().setNodeId(node).build())).getPoolsList()
                .stream().map(Pool::from).toList();
    }

    @GetMapping("/nodes/{node_id}/pools/{pool_id}")
    public Pool getNodePool(@PathVariable("node_id") String nodeId, @PathVariable("pool_id") String poolId) {
        String node = InputRules.nodeId("node_id", nodeId);
        String id = InputRules.poolId("pool_id", poolId);
        return onNode(node, agent.idempotent(s -> s.pools().getPool(GetPoolRequest.newBuilder().setId(id).build())));
    }

    @Operation(summary = "Create a pool on a node; repeating it with the same body answers the same pool, another body 409")
    @PutMapping("/nodes/{node_id}/pools/{pool_id}")
    public Pool putNodePool(@PathVariable("node_id") String nodeId, @PathVariable("pool_id") String poolId,
            @RequestBody CreatePoolBody body) {
        String node = InputRules.nodeId("node_id", nodeId);
        String id = InputRules.poolId("pool_id", poolId);
        InputRules.required("body", body);
        List<String> disks = InputRules.disks("disks", body.disks());
        var labels = InputRules.labels("labels", body.labels());
        return Pool.from(agent.idempotent(s -> s.pools().createPool(CreatePoolRequest.newBuilder().setId(id).setNodeId(node)
                .addAllDisks(disks).putAllLabels(labels).setEraseExisting(Boolean.TRUE.equals(body.eraseExisting())).build())));
    }

    @DeleteMapping("/nodes/{node_id}/pools/{pool_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delNodePool(@PathVariable("node_id") String nodeId, @PathVariable("pool_id") String poolId) {
        String node = InputRules.nodeId("node_id", nodeId);
        String id = InputRules.poolId("pool_id", poolId);
        onNode(node, agent.idempotent(s -> s.pools().getPool(GetPoolRequest.newBuilder().setId(id).build())));
        agent.idempotent(s -> s.pools().destroyPool(DestroyPoolRequest.newBuilder().setId(id).build()));
    }

    private static Pool onNode(String node, io.javastor.api.core.v1.Pool p) {
        if (!p.getNodeId().equals(node)) {
            throw ApiException.notFound("pool " + p.getId() + " on node " + node);
        }
        return Pool.from(p);
    }
}
