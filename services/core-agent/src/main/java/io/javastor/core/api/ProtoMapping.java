package io.javastor.core.api;

import java.time.Instant;

import com.google.protobuf.Timestamp;

import io.javastor.api.core.v1.OperationStatus;

/** Conversions shared by the resource APIs. */
public final class ProtoMapping {

    private ProtoMapping() {
    }

    public static OperationStatus operation(io.javastor.core.store.OperationStatus s) {
        return switch (s) {
            case CREATING -> OperationStatus.OPERATION_STATUS_CREATING;
            case CREATED -> OperationStatus.OPERATION_STATUS_CREATED;
            case DELETING -> OperationStatus.OPERATION_STATUS_DELETING;
            case DELETED -> OperationStatus.OPERATION_STATUS_DELETED;
        };
    }

    public static Timestamp timestamp(Instant i) {
        return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
    }

    public static Instant instant(Timestamp t) {
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }
}
