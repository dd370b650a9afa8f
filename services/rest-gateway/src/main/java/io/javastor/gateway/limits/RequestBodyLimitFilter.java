package io.javastor.gateway.limits;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

import io.javastor.gateway.errors.ErrorKind;
import io.javastor.gateway.errors.RestError;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

/**
 * Refuses a body larger than {@link RequestLimits#maxBody()} with 413 before anything reads it: by its
 * Content-Length, or, for a chunked body, by reading at most one byte more than the cap. Runs before
 * authentication, so an unauthenticated caller cannot make the gateway buffer more either.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
public class RequestBodyLimitFilter extends OncePerRequestFilter {
    private final long max;
    private final JsonMapper json;

    public RequestBodyLimitFilter(RequestLimits limits, JsonMapper json) {
        this.max = limits.maxBody().toBytes();
        this.json = json;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        long declared = request.getContentLengthLong();
        if (declared > max) {
            refuse(request, response, declared + " bytes");
            return;
        }
        if (declared >= 0 || request.getHeader("Transfer-Encoding") == null) {
            chain.doFilter(request, response);
            return;
        }
        byte[] body = request.getInputStream().readNBytes((int) max + 1);
        if (body.length > max) {
            refuse(request, response, "more than " + max + " bytes (chunked)");
            return;
        }
        chain.doFilter(new BufferedBody(request, body), response);
    }

    private void refuse(HttpServletRequest request, HttpServletResponse response, String size) throws IOException {
        response.setStatus(ErrorKind.PayloadTooLarge.status().value());
        response.setContentType(MediaType.APPLICATION_JSON_VALUE);
        // The rest of the body is not read: the connection is closed rather than drained.
        response.setHeader("Connection", "close");
        response.getWriter().write(json.writeValueAsString(new RestError(ErrorKind.PayloadTooLarge.name(),
                "the request body is " + size + "; the limit is " + max + " bytes (javastor.gateway.limits.max-body)",
                request.getRequestURI())));
    }

    /** A request whose body was read here already. */
    private static final class BufferedBody extends HttpServletRequestWrapper {
        private final byte[] body;

        BufferedBody(HttpServletRequest request, byte[] body) {
            super(request);
            this.body = body;
        }

        @Override
        public ServletInputStream getInputStream() {
            InputStream in = new ByteArrayInputStream(body);
            return new ServletInputStream() {
                @Override
                public int read() throws IOException {
                    return in.read();
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    return in.read(b, off, len);
                }

                @Override
                public boolean isFinished() {
                    try {
                        return in.available() == 0;
                    } catch (IOException e) {
                        return true;
                    }
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    throw new UnsupportedOperationException("synchronous reads only");
                }
            };
        }

        @Override
        public int getContentLength() {
            return body.length;
        }

        @Override
        public long getContentLengthLong() {
            return body.length;
        }
    }
}
