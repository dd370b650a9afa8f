package io.javastor.gateway.errors;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** The core agent's gRPC codes (see core.proto's header) as REST errors. */
final class CoreAgentErrors {
    private CoreAgentErrors() {
    }

    static ApiException toApi(StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        String description = e.getStatus().getDescription() == null ? code.name() : e.getStatus().getDescription();
        // The typed reason and what it names (e.g. "InUse volume=<uuid>") help a client act without parsing the message.
        String details = "core agent: " + code.name() + errorInfo(e).map(i -> " " + i.getReason()
                + new java.util.TreeMap<>(i.getMetadataMap()).entrySet().stream().map(m -> " " + m.getKey() + "=" + m.getValue())
                        .collect(java.util.stream.Collectors.joining())).orElse("");
        ErrorKind kind = switch (code) {
            case NOT_FOUND -> ErrorKind.NotFound;
            case ALREADY_EXISTS -> ErrorKind.AlreadyExists;
            case INVALID_ARGUMENT, OUT_OF_RANGE -> ErrorKind.InvalidArgument;
            case RESOURCE_EXHAUSTED -> ErrorKind.ResourceExhausted;
            case FAILED_PRECONDITION, ABORTED -> reason(e).orElseGet(() -> preconditionKind(description));
            case UNAVAILABLE -> ErrorKind.Unavailable;
            case DEADLINE_EXCEEDED -> ErrorKind.Timeout;
            case UNIMPLEMENTED -> ErrorKind.NotImplemented;
            case UNAUTHENTICATED, PERMISSION_DENIED -> ErrorKind.Forbidden;
            default -> ErrorKind.Internal;
        };
        String message = switch (kind) {
            case Unavailable -> "the core agent is unreachable or has no leader: " + description;
            case Timeout -> "the core agent did not answer in time";
            case NotImplemented -> "the core agent does not support this yet: " + description;
            default -> description;
        };
        return new ApiException(kind, message, details);
    }

    /**
     * The typed reason the agent attaches (google.rpc.ErrorInfo, see core.proto's header) as an
     * error kind, when it names one the gateway knows; agents without it fall back to the description.
     */
    static java.util.Optional<ErrorKind> reason(StatusRuntimeException e) {
        return errorInfo(e).flatMap(i -> java.util.Arrays.stream(ErrorKind.values()).filter(k -> k.name().equals(i.getReason())).findFirst());
    }

    private static java.util.Optional<com.google.rpc.ErrorInfo> errorInfo(StatusRuntimeException e) {
        com.google.rpc.Status detailed = io.grpc.protobuf.StatusProto.fromThrowable(e);
        if (detailed == null) {
            return java.util.Optional.empty();
        }
        for (com.google.protobuf.Any any : detailed.getDetailsList()) {
            if (any.is(com.google.rpc.ErrorInfo.class)) {
                try {
                    return java.util.Optional.of(any.unpack(com.google.rpc.ErrorInfo.class));
                } catch (com.google.protobuf.InvalidProtocolBufferException bad) {
                    return java.util.Optional.empty();
                }
            }
        }
        return java.util.Optional.empty();
    }

    /**
     * The agent answers one code for a conflict, a resource in use and a deletion in progress; the
     * description tells them apart (it reads "resource: why").
     */
    private static ErrorKind preconditionKind(String description) {
        if (description.contains("is being deleted") || description.contains(": is DELETING")) {
            return ErrorKind.Deleting;
        }
        if (description.contains(": holds ")) {
            return ErrorKind.InUse;
        }
        if (description.contains("another operation is in progress") || description.contains("changed concurrently")
                || description.contains("one already exists")) {
            return ErrorKind.Conflict;
        }
        return ErrorKind.FailedPrecondition;
    }
}
