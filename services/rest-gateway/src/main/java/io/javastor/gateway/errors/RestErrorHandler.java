package io.javastor.gateway.errors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.TypeMismatchException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import org.springframework.web.servlet.resource.NoResourceFoundException;

import io.github.resilience4j.bulkhead.BulkheadFullException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.grpc.StatusRuntimeException;
import tools.jackson.core.JacksonException;

/**
 * Turns every failure inside Spring MVC into a {@link RestError} with the right status: our own
 * decisions, the core agent's gRPC codes, resilience4j refusals, and Spring's own (unknown path,
 * wrong method or media type, unreadable body). Never a stack trace.
 */
@RestControllerAdvice
public class RestErrorHandler extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(RestErrorHandler.class);

    @ExceptionHandler(ApiException.class)
    ResponseEntity<RestError> apiException(ApiException e) {
        return answer(e);
    }

    @ExceptionHandler(StatusRuntimeException.class)
    ResponseEntity<RestError> coreAgent(StatusRuntimeException e) {
        return answer(CoreAgentErrors.toApi(e));
    }

    @ExceptionHandler(CallNotPermittedException.class)
    ResponseEntity<RestError> circuitOpen(CallNotPermittedException e) {
        return answer(new ApiException(ErrorKind.Unavailable,
                "the core agent is unavailable (recent calls failed); try again shortly", "circuit breaker open"));
    }

    @ExceptionHandler(BulkheadFullException.class)
    ResponseEntity<RestError> bulkheadFull(BulkheadFullException e) {
        return answer(new ApiException(ErrorKind.Unavailable,
                "too many calls to the core agent in flight; try again shortly", "bulkhead full"));
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<RestError> unexpected(Exception e) {
        log.error("unexpected failure", e);
        return answer(new ApiException(ErrorKind.Internal, "internal error: " + e.getClass().getSimpleName(), "see the gateway's log"));
    }

    @Override
    protected ResponseEntity<Object> handleTypeMismatch(TypeMismatchException e, HttpHeaders headers, HttpStatusCode status,
            WebRequest request) {
        String field = e instanceof MethodArgumentTypeMismatchException m ? m.getName() : String.valueOf(e.getPropertyName());
        String type = e.getRequiredType() == null ? "value" : e.getRequiredType().getSimpleName().toLowerCase();
        return body(ApiException.invalid(field, "must be of type " + type + ", got '" + e.getValue() + "'"));
    }

    @Override
    protected ResponseEntity<Object> handleMissingServletRequestParameter(MissingServletRequestParameterException e,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        return body(ApiException.invalid(e.getParameterName(), "is required"));
    }

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException e, HttpHeaders headers,
            HttpStatusCode status, WebRequest request) {
        if (e.getCause() instanceof JacksonException j && !j.getPath().isEmpty()) {
            String field = fieldPath(j);
            return body(ApiException.invalid(field, "cannot be read: " + j.getOriginalMessage()));
        }
        String why = e.getCause() instanceof JacksonException j ? j.getOriginalMessage() : "missing or not JSON";
        return body(ApiException.invalid("body", why));
    }

    @Override
    protected ResponseEntity<Object> handleNoResourceFoundException(NoResourceFoundException e, HttpHeaders headers,
            HttpStatusCode status, WebRequest request) {
        return body(new ApiException(ErrorKind.NotFound, "no such path: " + e.getHttpMethod() + " /" + e.getResourcePath(),
                "/" + e.getResourcePath()));
    }

    /** Everything else Spring MVC decides (405, 406, 415, ...): its status, our body. */
    @Override
    protected ResponseEntity<Object> handleExceptionInternal(Exception e, Object body, HttpHeaders headers, HttpStatusCode status,
            WebRequest request) {
        ErrorKind kind = kindOf(status);
        ResponseEntity.BodyBuilder b = ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON);
        if (headers != null && headers.getAllow() != null && !headers.getAllow().isEmpty()) {
            b.allow(headers.getAllow().toArray(new org.springframework.http.HttpMethod[0]));
        }
        return b.body(new RestError(kind.name(), e.getMessage(), request.getDescription(false).replaceFirst("^uri=", "")));
    }

    static ErrorKind kindOf(HttpStatusCode status) {
        return switch (status.value()) {
            case 400 -> ErrorKind.InvalidArgument;
            case 401 -> ErrorKind.Unauthorized;
            case 403 -> ErrorKind.Forbidden;
            case 404 -> ErrorKind.NotFound;
            case 405 -> ErrorKind.MethodNotAllowed;
            case 406 -> ErrorKind.NotAcceptable;
            case 409 -> ErrorKind.Conflict;
            case 412 -> ErrorKind.FailedPrecondition;
            case 415 -> ErrorKind.UnsupportedMediaType;
            case 422 -> ErrorKind.Unsupported;
            case 501 -> ErrorKind.NotImplemented;
            case 503 -> ErrorKind.Unavailable;
            case 507 -> ErrorKind.ResourceExhausted;
            default -> status.is4xxClientError() ? ErrorKind.InvalidArgument : ErrorKind.Internal;
        };
    }

    private static String fieldPath(JacksonException j) {
        StringBuilder out = new StringBuilder();
        for (JacksonException.Reference r : j.getPath()) {
            if (r.getPropertyName() != null) {
                out.append(out.isEmpty() ? "" : ".").append(r.getPropertyName());
            } else if (r.getIndex() >= 0) {
                out.append('[').append(r.getIndex()).append(']');
            }
        }
        return out.isEmpty() ? "body" : out.toString();
    }

    private static ResponseEntity<RestError> answer(ApiException e) {
        return ResponseEntity.status(e.kind().status()).contentType(MediaType.APPLICATION_JSON).body(e.body());
    }

    private static ResponseEntity<Object> body(ApiException e) {
        return ResponseEntity.status(e.kind().status()).contentType(MediaType.APPLICATION_JSON).body(e.body());
    }
}
