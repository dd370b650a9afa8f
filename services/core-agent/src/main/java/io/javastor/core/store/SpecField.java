package io.javastor.core.store;

import java.util.function.Function;

/**
 * A field of a kind's specs that reads look them up by (a replica's volume): {@link SpecStore#listWhere} answers from
 * an index the watch-fed copy keeps, where it would otherwise scan every spec of the kind.
 */
public record SpecField<T extends Spec>(SpecKind<T> kind, String name, Function<T, String> of) {
    public SpecField {
        if (!name.matches("[a-z]+")) {
            throw new IllegalArgumentException("spec field name must be lowercase letters: " + name);
        }
    }

    String indexName() {
        return kind.name() + "." + name;
    }
}
