package io.javastor.gateway.replica;

import java.util.List;
import java.util.function.Predicate;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import io.javastor.api.core.v1.GetNodeRequest;
import io.javastor.api.core.v1.GetPoolRequest;
import io.javastor.api.core.v1.ListReplicasRequest;
import io.javastor.gateway.coreclient.CoreAgentClient;
import io.javastor.gateway.errors.ApiException;
import io.javastor.gateway.validation.InputRules;
import io.swagger.v3.oas.annotations.tags.Tag;

/**
 * Replicas, read-only: the core agent places and removes them as part of volumes (core.proto has
 * no CreateReplica/DestroyReplica/ShareReplica for the control plane's clients).
 */
@RestController
@RequestMapping("/v0")
@Tag(name = "Replicas")
public class ReplicaController {

    private final CoreAgentClient agent;

    public ReplicaController(CoreAgentClient agent) {
        this.agent = agent;
    }

    @GetMapping("/replicas")
    public List<Replica> getReplicas() {
        return list(ListReplicasRequest.getDefaultInstance(), r -> true);
    }

    @GetMapping("/replicas/{id}")
    public Replica getReplica(@PathVariable String id) {
        String uuid = InputRules.uuid("id", id);
        return one(list(ListReplicasRequest.getDefaultInstance(), r -> r.getUuid().equals(uuid)), "replica " + uuid);
    }

    @GetMapping("/nodes/{id}/replicas")
    public List<Replica> getNodeReplicas(@PathVariable String id) {
        String node = InputRules.nodeId("id", id);
        agent.idempotent(s -> s.nodes().getNode(GetNodeRequest.newBuilder().setId(node).build()));
        return list(ListReplicasRequest.newBuilder().setNodeId(node).build(), r -> true);
    }

    @GetMapping("/nodes/{node_id}/pools/{pool_id}/replicas")
    public List<Replica> getNodePoolReplicas(@PathVariable("node_id") String nodeId, @PathVariable("pool_id") String poolId) {
        String node = InputRules.nodeId("node_id", nodeId);
        String pool = poolOnNode(node, InputRules.poolId("pool_id", poolId));
        return list(ListReplicasRequest.newBuilder().setNodeId(node).build(), r -> r.getPoolId().equals(pool));
    }

    @GetMapping("/nodes/{node_id}/pools/{pool_id}/replicas/{replica_id}")
    public Replica getNodePoolReplica(@PathVariable("node_id") String nodeId, @PathVariable("pool_id") String poolId,
            @PathVariable("replica_id") String replicaId) {
        String node = InputRules.nodeId("node_id", nodeId);
        String pool = InputRules.poolId("pool_id", poolId);
        String uuid = InputRules.uuid("replica_id", replicaId);
        poolOnNode(node, pool);
        return one(list(ListReplicasRequest.newBuilder().setNodeId(node).build(),
                r -> r.getPoolId().equals(pool) && r.getUuid().equals(uuid)), "replica " + uuid);
    }

    private String poolOnNode(String node, String pool) {
        var p = agent.idempotent(s -> s.pools().getPool(GetPoolRequest.newBuilder().setId(pool).build()));
        if (!p.getNodeId().equals(node)) {
            throw ApiException.notFound("pool " + pool + " on node " + node);
        }
        return pool;
    }

    private List<Replica> list(ListReplicasRequest request, Predicate<io.javastor.api.core.v1.Replica> filter) {
        return agent.idempotent(s -> s.replicas().listReplicas(request)).getReplicasList().stream().filter(filter)
                .map(Replica::from).toList();
    }

    private static Replica one(List<Replica> found, String what) {
        if (found.isEmpty()) {
            throw ApiException.notFound(what);
        }
        return found.get(0);
    }
}
