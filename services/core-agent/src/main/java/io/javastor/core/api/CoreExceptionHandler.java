package io.javastor.core.api;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.grpc.server.exception.GrpcExceptionHandler;
import org.springframework.stereotype.Component;

import io.grpc.Status;
import io.grpc.StatusException;
import io.javastor.core.CoreException;

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
        log.info("request failed code={}: {}", status.getCode(), e.getMessage());
        return status.withDescription(e.getMessage()).asException();
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
        if (e instanceof CoreException.InvalidArgument) {
            return Status.INVALID_ARGUMENT;
        }
        return Status.UNAVAILABLE;
    }
}
