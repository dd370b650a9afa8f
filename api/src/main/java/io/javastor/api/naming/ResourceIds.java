package io.javastor.api.naming;

import java.util.regex.Pattern;

/**
 * The id rules every component checks the same way: a node id is part of DNS names (its certificate's
 * {@code ID.node.javastor}), NQNs and Kubernetes node names, so it is a DNS-label-like name; a pool id is also a file
 * and metrics label. One place, so the core agent, the REST gateway and the CSI plugin cannot drift apart.
 */
public final class ResourceIds {
    /** 1-63 lower-case letters, digits, '-' and '.', starting and ending with a letter or digit. */
    public static final Pattern NODE_ID = Pattern.compile("[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?");
    public static final String NODE_ID_RULE = "1-63 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit";
    /** 1-63 letters, digits, '.', '_' and '-', starting with a letter or digit. */
    public static final Pattern POOL_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    public static final String POOL_ID_RULE = "1-63 letters, digits, '.', '_' or '-', starting with a letter or digit";

    private ResourceIds() {
    }

    public static boolean isNodeId(String id) {
        return id != null && NODE_ID.matcher(id).matches();
    }

    public static boolean isPoolId(String id) {
        return id != null && POOL_ID.matcher(id).matches();
    }
}
