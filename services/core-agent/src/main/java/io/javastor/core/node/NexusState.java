package io.javastor.core.node;

import java.util.List;

/**
 * A nexus as its io-engine last reported it: the volume targets and the nexuses made outside volumes alike.
 *
 * @param deviceUri nvmf://host:port/nqn while shared; empty otherwise
 * @param rebuilds  rebuilds running now
 */
public record NexusState(String uuid, String nodeId, long size, Health state, List<Child> children, String deviceUri,
                         List<String> allowedHosts, int rebuilds) {

    public enum Health { ONLINE, DEGRADED, FAULTED, SHUTTING_DOWN, SHUTDOWN, UNKNOWN }

    /** One child as the nexus reports it; Degraded means being rebuilt (rebuildProgress percent). */
    public record Child(String uri, Health state, int rebuildProgress) {}

    public NexusState {
        children = List.copyOf(children);
        allowedHosts = List.copyOf(allowedHosts);
        deviceUri = deviceUri == null ? "" : deviceUri;
    }

    public boolean hasChildEndingWith(String suffix) {
        return children.stream().anyMatch(c -> c.uri().endsWith(suffix));
    }
}
