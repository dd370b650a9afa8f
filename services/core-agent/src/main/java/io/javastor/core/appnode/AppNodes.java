package io.javastor.core.appnode;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.api.naming.ResourceIds;
import io.javastor.core.operation.CoreException;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * The app-node registry (Mayastor's app nodes): CSI node plugins register the node they run on, the CSI controller
 * publishes volumes only to registered nodes. Kept in etcd like every spec, so it outlives the agent that took it.
 */
public final class AppNodes {

    private static final Logger log = LoggerFactory.getLogger(AppNodes.class);
    /** host:port (a name, an IPv4 address or a bracketed IPv6 address), or a unix socket's absolute path as a URI. */
    private static final Pattern HOST_PORT = Pattern.compile("([^\\s:/\\[\\]]+|\\[[0-9A-Fa-f:.]+\\]):(\\d{1,5})");
    private static final Pattern UNIX_SOCKET = Pattern.compile("unix:///[^\\s\\x00]*");
    static final int MAX_ENDPOINT = 1024;
    static final int MAX_LABELS = 64;
    static final int MAX_LABEL_TEXT = 317;

    /** One page of app nodes in id order; {@code nextToken} is set when more follow. */
    public record Page(List<AppNodeSpec> appNodes, OptionalLong nextToken) {}

    private final SpecStore store;
    private final EventHistory events;

    public AppNodes(SpecStore store, EventHistory events) {
        this.store = store;
        this.events = events;
    }

    /**
     * Registers the node or replaces its endpoint and labels (as Mayastor: a plugin that restarted on another address
     * registers again and must not be refused); the same registration again writes nothing.
     */
    public AppNodeSpec register(String id, String endpoint, Map<String, String> labels) {
        AppNodeSpec wanted = new AppNodeSpec(requireId(id), requireEndpoint(endpoint), requireLabels(labels));
        for (int attempt = 0; ; attempt++) {
            Optional<Versioned<AppNodeSpec>> existing = store.get(AppNodeSpec.KIND, wanted.id());
            try {
                if (existing.isEmpty()) {
                    store.create(AppNodeSpec.KIND, wanted);
                    events.record("appnode", wanted.id(), "AppNodeRegistered", Severity.INFO,
                            "app node registered with endpoint " + wanted.endpoint());
                    log.info("app node registered id={} endpoint={}", wanted.id(), wanted.endpoint());
                } else if (!existing.get().spec().equals(wanted)) {
                    store.update(AppNodeSpec.KIND, existing.get(), wanted);
                    log.info("app node registration changed id={} endpoint={} labels={}", wanted.id(), wanted.endpoint(), wanted.labels());
                }
                return wanted;
            } catch (CoreException.Conflict raced) {
                // Another registration of the same node landed between our read and write: read again and compare.
                if (attempt >= 2) {
                    throw raced;
                }
            }
        }
    }

    /** Removes the registration; one that is not there is fine (the node plugin's last word on shutdown may repeat). */
    public void deregister(String id) {
        String appNode = requireId(id);
        Optional<Versioned<AppNodeSpec>> existing = store.get(AppNodeSpec.KIND, appNode);
        if (existing.isEmpty()) {
            return;
        }
        store.delete(AppNodeSpec.KIND, existing.get());
        events.record("appnode", appNode, "AppNodeDeregistered", Severity.INFO, "app node deregistered");
        log.info("app node deregistered id={}", appNode);
    }

    public AppNodeSpec get(String id) {
        String appNode = requireId(id);
        return store.get(AppNodeSpec.KIND, appNode).map(Versioned::spec)
                .orElseThrow(() -> new CoreException.NotFound("app node " + appNode + ": not registered"));
    }

    /** {@code maxEntries} app nodes in id order from offset {@code start}; 0 entries means all. */
    public Page list(int maxEntries, long start) {
        if (maxEntries < 0) {
            throw new CoreException.InvalidArgument("max_entries", "must not be negative");
        }
        if (start < 0) {
            throw new CoreException.InvalidArgument("starting_token", "must not be negative");
        }
        List<AppNodeSpec> all = store.list(AppNodeSpec.KIND).stream().map(Versioned::spec).toList();
        int from = (int) Math.min(start, all.size());
        int to = maxEntries == 0 ? all.size() : (int) Math.min((long) from + maxEntries, all.size());
        return new Page(all.subList(from, to), to < all.size() ? OptionalLong.of(to) : OptionalLong.empty());
    }

    private static String requireId(String id) {
        if (!ResourceIds.isNodeId(id)) {
            throw new CoreException.InvalidArgument("id", "must be " + ResourceIds.NODE_ID_RULE + ", got '" + id + "'");
        }
        return id;
    }

    private static String requireEndpoint(String endpoint) {
        if (endpoint == null || endpoint.isEmpty()) {
            throw new CoreException.InvalidArgument("endpoint", "is required (host:port, or unix:///path)");
        }
        if (endpoint.length() > MAX_ENDPOINT) {
            throw new CoreException.InvalidArgument("endpoint", "longer than " + MAX_ENDPOINT + " characters");
        }
        var hostPort = HOST_PORT.matcher(endpoint);
        if (hostPort.matches()) {
            int port = Integer.parseInt(hostPort.group(2));
            if (port < 1 || port > 65535) {
                throw new CoreException.InvalidArgument("endpoint", "port must be 1..65535, got " + port);
            }
            return endpoint;
        }
        if (UNIX_SOCKET.matcher(endpoint).matches()) {
            return endpoint;
        }
        throw new CoreException.InvalidArgument("endpoint", "must be host:port or unix:///path, got '" + endpoint + "'");
    }

    private static Map<String, String> requireLabels(Map<String, String> labels) {
        if (labels.size() > MAX_LABELS) {
            throw new CoreException.InvalidArgument("labels", "at most " + MAX_LABELS + ", got " + labels.size());
        }
        for (Map.Entry<String, String> e : labels.entrySet()) {
            if (e.getKey().isBlank() || e.getKey().length() > MAX_LABEL_TEXT || e.getKey().chars().anyMatch(c -> c <= ' ')) {
                throw new CoreException.InvalidArgument("labels", "key '" + e.getKey() + "' must be 1.." + MAX_LABEL_TEXT
                        + " characters without spaces");
            }
            if (e.getValue().length() > MAX_LABEL_TEXT || e.getValue().chars().anyMatch(c -> c < ' ')) {
                throw new CoreException.InvalidArgument("labels." + e.getKey(), "value must be at most " + MAX_LABEL_TEXT
                        + " printable characters");
            }
        }
        return labels;
    }
}
