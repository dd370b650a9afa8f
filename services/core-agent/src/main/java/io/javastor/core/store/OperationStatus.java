package io.javastor.core.store;

/** Where a spec's last operation stands; a restarted agent finishes or undoes anything not CREATED. */
public enum OperationStatus {
    CREATING, CREATED, DELETING, DELETED
}
