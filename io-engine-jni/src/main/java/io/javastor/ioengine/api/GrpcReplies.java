package io.javastor.ioengine.api;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.javastor.ioengine.EngineException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Supplier;

/** How every io-engine gRPC method answers: the result, or its typed failure as a status with the message intact. */
public final class GrpcReplies {
    private static final Logger LOG = LoggerFactory.getLogger(GrpcReplies.class);

    private GrpcReplies() {
    }

    public static <T> void call(StreamObserver<T> out, Supplier<T> body) {
        T result;
        try {
            result = body.get();
        } catch (EngineException e) {
            out.onError(status(e).withDescription(e.getMessage()).asRuntimeException());
            return;
        } catch (IllegalArgumentException e) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
            return;
        } catch (IllegalStateException e) {
            out.onError(Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException());
            return;
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        } catch (RuntimeException e) {
            LOG.error("io-engine call failed unexpectedly", e);
            out.onError(Status.INTERNAL.withDescription(String.valueOf(e.getMessage())).asRuntimeException());
            return;
        }
        out.onNext(result);
        out.onCompleted();
    }

    static Status status(EngineException e) {
        return switch (e.kind()) {
            case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
            case NOT_FOUND -> Status.NOT_FOUND;
            case ALREADY_EXISTS -> Status.ALREADY_EXISTS;
            case RESOURCE_EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
            case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
            case DATA_LOSS -> Status.DATA_LOSS;
            case UNAVAILABLE -> Status.UNAVAILABLE;
            case INTERNAL -> Status.INTERNAL;
        };
    }
}
