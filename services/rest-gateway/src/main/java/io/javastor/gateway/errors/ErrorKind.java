package io.javastor.gateway.errors;

import org.springframework.http.HttpStatus;

/** The kinds of error the API answers with, each with its one HTTP status. */
public enum ErrorKind {
    InvalidArgument(HttpStatus.BAD_REQUEST),
    Unauthorized(HttpStatus.UNAUTHORIZED),
    Forbidden(HttpStatus.FORBIDDEN),
    NotFound(HttpStatus.NOT_FOUND),
    MethodNotAllowed(HttpStatus.METHOD_NOT_ALLOWED),
    NotAcceptable(HttpStatus.NOT_ACCEPTABLE),
    AlreadyExists(HttpStatus.CONFLICT),
    Conflict(HttpStatus.CONFLICT),
    InUse(HttpStatus.CONFLICT),
    Deleting(HttpStatus.CONFLICT),
    FailedPrecondition(HttpStatus.PRECONDITION_FAILED),
    UnsupportedMediaType(HttpStatus.UNSUPPORTED_MEDIA_TYPE),
    /** A request body over javastor.gateway.limits.max-body. */
    PayloadTooLarge(HttpStatus.CONTENT_TOO_LARGE),
    /** Well-formed input the core agent cannot do (a field it does not support). */
    Unsupported(HttpStatus.UNPROCESSABLE_CONTENT),
    Internal(HttpStatus.INTERNAL_SERVER_ERROR),
    NotImplemented(HttpStatus.NOT_IMPLEMENTED),
    Unavailable(HttpStatus.SERVICE_UNAVAILABLE),
    Timeout(HttpStatus.SERVICE_UNAVAILABLE),
    ResourceExhausted(HttpStatus.INSUFFICIENT_STORAGE);

    private final HttpStatus status;

    ErrorKind(HttpStatus status) {
        this.status = status;
    }

    public HttpStatus status() {
        return status;
    }
}
