package io.javastor.core.store;

/** A kind of spec: its name in the etcd key and the record class its JSON decodes to. */
public record SpecKind<T extends Spec>(String name, Class<T> type) {
    public SpecKind {
        if (!name.matches("[a-z]+")) {
            throw new IllegalArgumentException("spec kind name must be lowercase letters: " + name);
        }
    }
}
