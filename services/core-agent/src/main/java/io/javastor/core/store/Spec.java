package io.javastor.core.store;

/** A desired-state record kept in etcd. Implementations are immutable records. */
public interface Spec {
    String id();

    OperationStatus operation();
}
