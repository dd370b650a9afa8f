package io.javastor.gateway.errors;

import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import io.swagger.v3.oas.annotations.Hidden;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;

/**
 * Errors raised outside Spring MVC (the servlet container, a filter) end here instead of Boot's
 * whitelabel page, so even they answer with a {@link RestError}.
 */
@Hidden
@RestController
public class JsonErrorController implements ErrorController {

    @RequestMapping(path = "${server.error.path:/error}", produces = MediaType.ALL_VALUE)
    ResponseEntity<RestError> error(HttpServletRequest request) {
        Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        HttpStatusCode status = code instanceof Integer i ? HttpStatusCode.valueOf(i) : HttpStatus.INTERNAL_SERVER_ERROR;
        Object uri = request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI);
        Object message = request.getAttribute(RequestDispatcher.ERROR_MESSAGE);
        ErrorKind kind = RestErrorHandler.kindOf(status);
        String text = message instanceof String s && !s.isBlank() ? s : kind.name();
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON)
                .body(new RestError(kind.name(), text, uri == null ? "" : uri.toString()));
    }
}
