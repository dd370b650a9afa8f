package io.javastor.gateway.watch;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;

import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import io.javastor.api.core.v1.CreateVolumeWatchRequest;
import io.javastor.api.core.v1.DeleteVolumeWatchRequest;
import io.javastor.api.core.v1.ListVolumeWatchesRequest;
import io.javastor.gateway.coreclient.CoreAgentClient;
import io.javastor.gateway.errors.ApiException;
import io.javastor.gateway.validation.InputRules;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;

/**
 * Mayastor's v0 watches: a URL the leader core agent calls (HTTP PUT, empty body, like Mayastor) each time the
 * volume changes: its spec (size, replica count, status, target, ...) or its observed state (Online, Degraded, ...).
 */
@RestController
@RequestMapping("/v0")
@Tag(name = "Watches")
public class WatchController {

    /** The core agent's limit too: long enough for any webhook, short enough for logs and etcd values. */
    static final int MAX_CALLBACK_LENGTH = 2048;

    private final CoreAgentClient agent;

    public WatchController(CoreAgentClient agent) {
        this.agent = agent;
    }

    @Operation(summary = "The volume's watches; 404 when the volume does not exist")
    @GetMapping("/watches/volumes/{volume_id}")
    public List<RestWatch> getWatchVolume(@PathVariable("volume_id") String volumeId) {
        String uuid = InputRules.uuid("volume_id", volumeId);
        return agent.idempotent(s -> s.watches().listVolumeWatches(ListVolumeWatchesRequest.newBuilder().setVolumeUuid(uuid).build()))
                .getWatchesList().stream().map(RestWatch::from).toList();
    }

    @Operation(summary = "Register a callback called (HTTP PUT, empty body) on each change of the volume; registering it again "
            + "succeeds; 404 when the volume does not exist")
    @PutMapping("/watches/volumes/{volume_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void putWatchVolume(@PathVariable("volume_id") String volumeId,
            @Parameter(description = "absolute http or https URL") @RequestParam("callback") String callback) {
        String uuid = InputRules.uuid("volume_id", volumeId);
        String url = callback(callback);
        agent.idempotent(s -> s.watches().createVolumeWatch(CreateVolumeWatchRequest.newBuilder().setVolumeUuid(uuid).setCallback(url).build()));
    }

    @Operation(summary = "Remove a callback; 404 when the volume has no watch with it")
    @DeleteMapping("/watches/volumes/{volume_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delWatchVolume(@PathVariable("volume_id") String volumeId,
            @Parameter(description = "the URL it was registered with") @RequestParam("callback") String callback) {
        String uuid = InputRules.uuid("volume_id", volumeId);
        String url = callback(callback);
        // Not retried: a repeat after a lost answer would turn the removal into a 404.
        agent.once(s -> s.watches().deleteVolumeWatch(DeleteVolumeWatchRequest.newBuilder().setVolumeUuid(uuid).setCallback(url).build()));
    }

    /** Checked here (400 naming "callback") before the agent checks it again. */
    static String callback(String value) {
        if (value == null || value.isBlank()) {
            throw ApiException.invalid("callback", "is required");
        }
        if (value.length() > MAX_CALLBACK_LENGTH) {
            throw ApiException.invalid("callback", "must be at most " + MAX_CALLBACK_LENGTH + " characters, got " + value.length());
        }
        URI uri;
        try {
            uri = new URI(value);
        } catch (URISyntaxException e) {
            throw ApiException.invalid("callback", "is not a URL: " + e.getMessage());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!uri.isAbsolute() || !(scheme.equals("http") || scheme.equals("https"))) {
            throw ApiException.invalid("callback", "must be an absolute http or https URL, got '" + value + "'");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw ApiException.invalid("callback", "must name a host, got '" + value + "'");
        }
        if (uri.getRawUserInfo() != null) {
            throw ApiException.invalid("callback", "must not carry user credentials");
        }
        return value;
    }
}
