package io.javastor.gateway.spec;

import io.javastor.api.core.v1.OperationStatus;

/** A spec's operation status as the REST API spells it. */
public final class SpecStatus {
    private SpecStatus() {
    }

    public static String of(OperationStatus s) {
        return switch (s) {
            case OPERATION_STATUS_CREATING -> "Creating";
            case OPERATION_STATUS_CREATED -> "Created";
            case OPERATION_STATUS_DELETING -> "Deleting";
            case OPERATION_STATUS_DELETED -> "Deleted";
            default -> "Unknown";
        };
    }
}
