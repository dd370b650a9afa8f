package io.javastor.gateway.spec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import io.javastor.api.core.v1.ListSpecsRequest;
import io.javastor.api.core.v1.Spec;
import io.javastor.gateway.coreclient.CoreAgentClient;
import io.swagger.v3.oas.annotations.tags.Tag;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

@RestController
@RequestMapping("/v0")
@Tag(name = "Specs")
public class SpecController {

    private static final TypeReference<Map<String, Object>> OBJECT = new TypeReference<>() {
    };

    private final CoreAgentClient agent;
    private final JsonMapper json;

    public SpecController(CoreAgentClient agent, JsonMapper json) {
        this.agent = agent;
        this.json = json;
    }

    @GetMapping("/specs")
    public Specs getSpecs() {
        List<Specs.SpecEntry> volumes = new ArrayList<>();
        List<Specs.SpecEntry> pools = new ArrayList<>();
        List<Specs.SpecEntry> replicas = new ArrayList<>();
        List<Specs.SpecEntry> nodes = new ArrayList<>();
        List<Spec> nexusSpecs = new ArrayList<>();
        Map<String, Long> volumeSizes = new HashMap<>();
        for (Spec s : agent.idempotent(a -> a.specs().listSpecs(ListSpecsRequest.getDefaultInstance())).getSpecsList()) {
            if (s.getKind().equals("nexus")) {
                nexusSpecs.add(s); // after the loop: a target's size is its volume's
                continue;
            }
            Specs.SpecEntry entry = new Specs.SpecEntry(s.getId(), SpecStatus.of(s.getOperation()), s.getModRevision(),
                    json.readValue(s.getJson(), OBJECT));
            if (s.getKind().equals("volume") && entry.spec().get("size") instanceof Number size) {
                volumeSizes.put(s.getId(), size.longValue());
            }
            switch (s.getKind()) {
                case "volume" -> volumes.add(entry);
                case "pool" -> pools.add(entry);
                case "replica" -> replicas.add(entry);
                case "node" -> nodes.add(entry);
                default -> {
                    // A kind this gateway does not know yet (a newer agent): not part of the v0 shape.
                }
            }
        }
        List<NexusSpec> nexuses = nexusSpecs.stream().map(s -> NexusSpec.from(json.readValue(s.getJson(), OBJECT),
                SpecStatus.of(s.getOperation()), s.getModRevision(), volumeSizes)).toList();
        return new Specs(volumes, pools, replicas, nexuses, nodes);
    }
}
