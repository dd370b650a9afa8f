package io.javastor.core.operation;

/**
 * The closed set of errors the core agent answers with. The API layer maps each to one gRPC code;
 * messages read "{@code <field or resource>: <why>}".
 */
public abstract sealed class CoreException extends RuntimeException {

    /** What a client may act on besides the message, e.g. {@code volume} -> the owner of a replica in use. */
    private final java.util.Map<String, String> metadata;

    private CoreException(String message, Throwable cause) {
        this(message, cause, java.util.Map.of());
    }

    private CoreException(String message, Throwable cause, java.util.Map<String, String> metadata) {
        super(message, cause);
        this.metadata = java.util.Map.copyOf(metadata);
    }

    public java.util.Map<String, String> metadata() {
        return metadata;
    }

    public static final class NotFound extends CoreException {
        public NotFound(String message) { super(message, null); }
    }

    /** The resource exists with a different spec. */
    public static final class AlreadyExists extends CoreException {
        public AlreadyExists(String message) { super(message, null); }
    }

    /** Another operation holds the resource, or the spec changed in etcd since it was read. */
    public static final class Conflict extends CoreException {
        public Conflict(String message) { super(message, null); }
    }

    /** The resource is used by another (a pool with replicas, ...). */
    public static final class InUse extends CoreException {
        public InUse(String message) { super(message, null); }
        public InUse(String message, java.util.Map<String, String> metadata) { super(message, null, metadata); }
    }

    public static final class ResourceExhausted extends CoreException {
        public ResourceExhausted(String message) { super(message, null); }
    }

    public static final class InvalidArgument extends CoreException {
        public InvalidArgument(String field, String why) { super(field + ": " + why, null); }
    }

    public static final class FailedPrecondition extends CoreException {
        public FailedPrecondition(String message) { super(message, null); }
    }

    /** The caller's certificate does not let it act for this resource (a node registering as another). */
    public static final class PermissionDenied extends CoreException {
        public PermissionDenied(String message) { super(message, null); }
    }

    /** Not the leader, or etcd / an io-engine cannot be reached: the caller may retry. */
    public static final class Unavailable extends CoreException {
        public Unavailable(String message) { super(message, null); }
        public Unavailable(String message, Throwable cause) { super(message, cause); }
    }
}
