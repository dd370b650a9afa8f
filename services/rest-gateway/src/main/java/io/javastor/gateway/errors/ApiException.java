package io.javastor.gateway.errors;

/** An answer other than success, decided by the gateway itself. */
public class ApiException extends RuntimeException {
    private final ErrorKind kind;
    private final String details;

    public ApiException(ErrorKind kind, String message, String details) {
        super(message);
        this.kind = kind;
        this.details = details;
    }

    /** Bad input: the message names the field. */
    public static ApiException invalid(String field, String why) {
        return new ApiException(ErrorKind.InvalidArgument, field + ": " + why, field);
    }

    /** Valid input that the core agent cannot carry out. */
    public static ApiException unsupported(String field, String why) {
        return new ApiException(ErrorKind.Unsupported, field + ": " + why, field);
    }

    public static ApiException notFound(String what) {
        return new ApiException(ErrorKind.NotFound, what + ": not found", what);
    }

    public ErrorKind kind() {
        return kind;
    }

    public String details() {
        return details;
    }

    public RestError body() {
        return new RestError(kind.name(), getMessage(), details);
    }
}
