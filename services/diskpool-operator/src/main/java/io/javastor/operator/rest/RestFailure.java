package io.javastor.operator.rest;

/**
 * A REST call that did not do what was asked. {@code status} is the HTTP status (0 when the gateway
 * could not be reached at all); {@code kind} and {@code message} come from its error body.
 */
public final class RestFailure extends RuntimeException {
    private final int status;
    private final String kind;

    public RestFailure(int status, String kind, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.kind = kind;
    }

    public int status() {
        return status;
    }

    public String kind() {
        return kind;
    }

    /** The gateway or the core agent behind it could not answer: nothing is known, try again later. */
    public boolean unreachable() {
        return status == 0 || status == 502 || status == 503 || status == 504;
    }

    public boolean inUse() {
        return status == 409 && "InUse".equals(kind);
    }

    public boolean notFound() {
        return status == 404;
    }

    @Override
    public String toString() {
        return status == 0 ? "REST API unreachable: " + getMessage() : "REST API " + status + " " + kind + ": " + getMessage();
    }
}
