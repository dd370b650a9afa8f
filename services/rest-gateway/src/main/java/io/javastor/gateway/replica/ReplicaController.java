package io.javastor.gateway.replica;

import java.util.List;
import java.util.function.Predicate;

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

import io.javastor.api.core.v1.CreateReplicaRequest;
import io.javastor.api.core.v1.DestroyReplicaRequest;
import io.javastor.api.core.v1.GetNodeRequest;
import io.javastor.api.core.v1.GetPoolRequest;
import io.javastor.api.core.v1.ListReplicasRequest;
import io.javastor.api.core.v1.ShareReplicaRequest;
import io.javastor.api.core.v1.UnshareReplicaRequest;
import io.javastor.gateway.coreclient.CoreAgentClient;
import io.javastor.gateway.errors.ApiException;
import io.javastor.gateway.validation.InputRules;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import tools.jackson.databind.json.JsonMapper;

/**
 * Replicas: every one is listed; those outside volumes can also be created, shared, unshared and
 * destroyed here. A volume's replicas are the volume's to place, share and remove (409 InUse).
 */
@RestController
@RequestMapping("/v0")
@Tag(name = "Replicas")
public class ReplicaController {

    private static final JsonMapper JSON = JsonMapper.builder().build();

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

    @Operation(summary = "Create a replica outside any volume; the same body again answers the same replica, another body 409. "
            + "Replicas of volumes are made by the volume (its replica count)")
    @PutMapping("/nodes/{node_id}/pools/{pool_id}/replicas/{replica_id}")
    public Replica putNodePoolReplica(@PathVariable("node_id") String nodeId, @PathVariable("pool_id") String poolId,
            @PathVariable("replica_id") String replicaId, @RequestBody CreateReplicaBody body) {
        String node = InputRules.nodeId("node_id", nodeId);
        String pool = InputRules.poolId("pool_id", poolId);
        return create(node, pool, replicaId, body);
    }

    @Operation(summary = "Create a replica outside any volume in this pool (on the pool's node)")
    @PutMapping("/pools/{pool_id}/replicas/{replica_id}")
    public Replica putPoolReplica(@PathVariable("pool_id") String poolId, @PathVariable("replica_id") String replicaId,
            @RequestBody CreateReplicaBody body) {
        String pool = InputRules.poolId("pool_id", poolId);
        InputRules.uuid("replica_id", replicaId);
        validate(body);
        return create(nodeOf(pool), pool, replicaId, body);
    }

    @Operation(summary = "Destroy a replica outside any volume; destroying one that is gone succeeds; a volume's replica is 409 InUse "
            + "(change the volume's replica count instead)")
    @DeleteMapping("/nodes/{node_id}/pools/{pool_id}/replicas/{replica_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delNodePoolReplica(@PathVariable("node_id") String nodeId, @PathVariable("pool_id") String poolId,
            @PathVariable("replica_id") String replicaId) {
        String node = InputRules.nodeId("node_id", nodeId);
        String pool = InputRules.poolId("pool_id", poolId);
        String uuid = InputRules.uuid("replica_id", replicaId);
        poolOnNode(node, pool);
        agent.idempotent(s -> s.replicas().destroyReplica(
                DestroyReplicaRequest.newBuilder().setUuid(uuid).setNodeId(node).setPoolId(pool).build()));
    }

    @Operation(summary = "Destroy a replica outside any volume in this pool")
    @DeleteMapping("/pools/{pool_id}/replicas/{replica_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delPoolReplica(@PathVariable("pool_id") String poolId, @PathVariable("replica_id") String replicaId) {
        String pool = InputRules.poolId("pool_id", poolId);
        String uuid = InputRules.uuid("replica_id", replicaId);
        String node = nodeOf(pool);
        agent.idempotent(s -> s.replicas().destroyReplica(
                DestroyReplicaRequest.newBuilder().setUuid(uuid).setNodeId(node).setPoolId(pool).build()));
    }

    @Operation(summary = "Share a replica (outside any volume) over NVMe-oF/TCP; answers its nvmf:// URI. Sharing again succeeds")
    @PutMapping(path = "/nodes/{node_id}/pools/{pool_id}/replicas/{replica_id}/share/nvmf", produces = MediaType.APPLICATION_JSON_VALUE)
    public ResponseEntity<String> putNodePoolReplicaShare(@PathVariable("node_id") String nodeId, @PathVariable("pool_id") String poolId,
            @PathVariable("replica_id") String replicaId,
            @Parameter(description = "host NQNs allowed to connect, comma-separated, at least one; each authenticates with its "
                    + "own DH-HMAC-CHAP pair (a nexus on the node whose NQN is named gets it itself)")
            @RequestParam(name = "allowed-hosts", required = false) List<String> allowedHosts) {
        String node = InputRules.nodeId("node_id", nodeId);
        String pool = InputRules.poolId("pool_id", poolId);
        return share(node, pool, InputRules.uuid("replica_id", replicaId), allowedHosts);
    }

    @Operation(summary = "Share a replica (outside any volume) of this pool over NVMe-oF/TCP; answers its nvmf:// URI")
    @PutMapping(path = "/pools/{pool_id}/replicas/{replica_id}/share/nvmf", produces = MediaType.APPLICATION_JSON_VALUE)
    public ResponseEntity<String> putPoolReplicaShare(@PathVariable("pool_id") String poolId, @PathVariable("replica_id") String replicaId,
            @Parameter(description = "host NQNs allowed to connect, comma-separated, at least one; each authenticates with its "
                    + "own DH-HMAC-CHAP pair (a nexus on the node whose NQN is named gets it itself)")
            @RequestParam(name = "allowed-hosts", required = false) List<String> allowedHosts) {
        String pool = InputRules.poolId("pool_id", poolId);
        String uuid = InputRules.uuid("replica_id", replicaId);
        InputRules.namedHostNqns("allowed-hosts", allowedHosts);
        return share(nodeOf(pool), pool, uuid, allowedHosts);
    }

    @Operation(summary = "Stop sharing a replica (outside any volume); unsharing one that is not shared succeeds")
    @DeleteMapping("/nodes/{node_id}/pools/{pool_id}/replicas/{replica_id}/share")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delNodePoolReplicaShare(@PathVariable("node_id") String nodeId, @PathVariable("pool_id") String poolId,
            @PathVariable("replica_id") String replicaId) {
        String node = InputRules.nodeId("node_id", nodeId);
        String pool = InputRules.poolId("pool_id", poolId);
        unshare(node, pool, InputRules.uuid("replica_id", replicaId));
    }

    @Operation(summary = "Stop sharing a replica (outside any volume) of this pool")
    @DeleteMapping("/pools/{pool_id}/replicas/{replica_id}/share")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delPoolReplicaShare(@PathVariable("pool_id") String poolId, @PathVariable("replica_id") String replicaId) {
        String pool = InputRules.poolId("pool_id", poolId);
        String uuid = InputRules.uuid("replica_id", replicaId);
        unshare(nodeOf(pool), pool, uuid);
    }

    private Replica create(String node, String pool, String replicaId, CreateReplicaBody body) {
        String uuid = InputRules.uuid("replica_id", replicaId);
        validate(body);
        List<String> hosts = InputRules.hostNqns("allowed_hosts", body.allowedHosts());
        boolean shared = "nvmf".equals(body.share());
        if (!shared && !hosts.isEmpty()) {
            throw ApiException.invalid("allowed_hosts", "only apply to a shared replica (share: nvmf)");
        }
        if (shared) {
            InputRules.namedHostNqns("allowed_hosts", hosts);
        }
        poolOnNode(node, pool);
        var created = agent.idempotent(s -> s.replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(uuid).setNodeId(node)
                .setPoolId(pool).setSize(body.size()).setThin(body.thin()).build()));
        if (shared) {
            created = agent.idempotent(s -> s.replicas().shareReplica(
                    ShareReplicaRequest.newBuilder().setUuid(uuid).addAllAllowedHosts(hosts).build()));
        }
        return Replica.from(created);
    }

    private static void validate(CreateReplicaBody body) {
        InputRules.required("body", body);
        InputRules.positiveSize("size", body.size());
        InputRules.required("thin", body.thin());
        if (body.share() != null && !body.share().equals("none") && !body.share().equals("nvmf")) {
            throw ApiException.invalid("share", "must be none or nvmf, got '" + body.share() + "'");
        }
    }

    private ResponseEntity<String> share(String node, String pool, String uuid, List<String> allowedHosts) {
        List<String> hosts = InputRules.namedHostNqns("allowed-hosts", allowedHosts);
        requireReplica(node, pool, uuid);
        var shared = agent.idempotent(s -> s.replicas().shareReplica(
                ShareReplicaRequest.newBuilder().setUuid(uuid).addAllAllowedHosts(hosts).build()));
        // Mayastor answers the URI as a JSON string.
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(JSON.writeValueAsString(shared.getUri()));
    }

    private void unshare(String node, String pool, String uuid) {
        requireReplica(node, pool, uuid);
        agent.idempotent(s -> s.replicas().unshareReplica(UnshareReplicaRequest.newBuilder().setUuid(uuid).build()));
    }

    /** 404 unless the replica is in this pool on this node (the agent checks ownership and state). */
    private void requireReplica(String node, String pool, String uuid) {
        poolOnNode(node, pool);
        one(list(ListReplicasRequest.newBuilder().setNodeId(node).build(), r -> r.getPoolId().equals(pool) && r.getUuid().equals(uuid)),
                "replica " + uuid + " in pool " + pool + " on node " + node);
    }

    private String nodeOf(String pool) {
        return agent.idempotent(s -> s.pools().getPool(GetPoolRequest.newBuilder().setId(pool).build())).getNodeId();
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
