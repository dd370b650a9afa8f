package io.javastor.ioengine;

/** A typed failure of an io-engine operation; the API maps {@link Kind} to its status code. */
public class EngineException extends RuntimeException {
    public enum Kind { INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, RESOURCE_EXHAUSTED, FAILED_PRECONDITION, DATA_LOSS, UNAVAILABLE, INTERNAL }

    private final Kind kind;

    public EngineException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public EngineException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public static EngineException invalid(String field, String problem) {
        return new EngineException(Kind.INVALID_ARGUMENT, field + ": " + problem);
    }

    public static EngineException notFound(String what) {
        return new EngineException(Kind.NOT_FOUND, what);
    }

    public static EngineException exists(String what) {
        return new EngineException(Kind.ALREADY_EXISTS, what);
    }
}
