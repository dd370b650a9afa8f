package io.javastor.gateway.errors;

import io.swagger.v3.oas.annotations.media.Schema;

/** The body of every error answer. */
@Schema(name = "RestJsonError", requiredProperties = {"kind", "message", "details"})
public record RestError(
        @Schema(description = "NotFound, AlreadyExists, Conflict, InvalidArgument, InUse, ResourceExhausted, FailedPrecondition, "
                + "Unavailable, Timeout, Deleting, Internal, NotImplemented, Unsupported, ...") String kind,
        @Schema(description = "What went wrong; for bad input it starts with the field's name") String message,
        @Schema(description = "Context: the field, the core agent's status code or the path") String details) {
}
