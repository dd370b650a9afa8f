package io.javastor.core.api;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.grpc.server.exception.GrpcExceptionHandler;
import org.springframework.stereotype.Component;

import io.grpc.Status;
import io.grpc.StatusException;
import io.javastor.core.operation.CoreException;

/** The one place typed errors become gRPC codes (see core.proto's header). */
@Component
public class CoreExceptionHandler implements GrpcExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(CoreExceptionHandler.class);

    @Override
    public StatusException handleException(Throwable exception) {
        if (!(exception instanceof CoreException e)) {
            return null; // not ours: Spring gRPC answers UNKNOWN/INTERNAL
        }
        Status status = toStatus(e);
        String reason = reason(e);
        log.info("request failed code={} reason={}: {}", status.getCode(), reason, e.getMessage());
        // The code alone folds conflicts, resources in use and deletions in progress together; the
        // ErrorInfo's reason keeps them apart for clients (the REST gateway's error kind).
        com.google.rpc.Status detailed = com.google.rpc.Status.newBuilder().setCode(status.getCode().value())
                .setMessage(e.getMessage() == null ? "" : e.getMessage())
                .addDetails(com.google.protobuf.Any.pack(com.google.rpc.ErrorInfo.newBuilder().setReason(reason)
                        .setDomain(ERROR_DOMAIN).putAllMetadata(e.metadata()).build()))
                .build();
        return io.grpc.protobuf.StatusProto.toStatusException(detailed);
    }

    /** The google.rpc.ErrorInfo domain of the agent's errors. */
    public static final String ERROR_DOMAIN = "javastor.io";

    /** The typed reason (see core.proto's header): the exception's kind, with a deletion in progress told apart. */
    public static String reason(CoreException e) {
        if (e instanceof CoreException.Conflict && e.getMessage() != null
                && (e.getMessage().contains("is being deleted") || e.getMessage().contains(": is DELETING"))) {
            return "Deleting";
        }
        return e.getClass().getSimpleName();
    }

    public static Status toStatus(CoreException e) {
        if (e instanceof CoreException.NotFound) {
            return Status.NOT_FOUND;
        }
        if (e instanceof CoreException.AlreadyExists) {
            return Status.ALREADY_EXISTS;
        }
        if (e instanceof CoreException.Conflict || e instanceof CoreException.InUse || e instanceof CoreException.FailedPrecondition) {
            return Status.FAILED_PRECONDITION;
        }
        if (e instanceof CoreException.ResourceExhausted) {
            return Status.RESOURCE_EXHAUSTED;
        }
        if (e instanceof CoreException.PermissionDenied) {
            return Status.PERMISSION_DENIED;
        }
        if (e instanceof CoreException.InvalidArgument) {
            return Status.INVALID_ARGUMENT;
        }
        return Status.UNAVAILABLE;
    }
}
