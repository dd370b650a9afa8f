package io.javastor.core.store;

/** A spec as read from etcd, with the key's mod revision that a later write must still match. */
public record Versioned<T extends Spec>(T spec, long modRevision) {}
