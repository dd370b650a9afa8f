package io.javastor.core.appnode;

import java.util.Map;
import java.util.TreeMap;

import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.Spec;
import io.javastor.core.store.SpecKind;

/**
 * A node applications run on, as its CSI node plugin registered it (Mayastor's AppNodeSpec).
 *
 * @param endpoint where the node plugin serves: {@code host:port}, or {@code unix:///path} for a plugin serving on a
 *                 unix socket only
 */
public record AppNodeSpec(String id, String endpoint, Map<String, String> labels) implements Spec {

    public static final SpecKind<AppNodeSpec> KIND = new SpecKind<>("appnode", AppNodeSpec.class);

    public AppNodeSpec {
        // Sorted: the same labels make an equal spec and the same JSON, whatever order they came in.
        labels = labels == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(labels));
    }

    /** A registration is written whole or not at all: nothing to finish or undo after a crash. */
    @Override
    public OperationStatus operation() {
        return OperationStatus.CREATED;
    }
}
