package io.javastor.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** The paced client's response reader: responses back to back on one connection, arriving a few bytes at a time. */
class PacedHttpsLoadTest {

    private static final String THREE_RESPONSES = "HTTP/1.1 200 \r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n"
            + "{\"uuid\":\"a\"}\n"
            + "HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n!\r\n0\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 2\r\nConnection: close\r\n\r\nok";

    @Test
    void readsResponsesBackToBackWhateverTheReadsBoundaries() throws IOException {
        for (int chunk = 1; chunk <= THREE_RESPONSES.length(); chunk += 7) {
            var reader = new PacedHttpsLoad.ResponseReader(trickle(THREE_RESPONSES, chunk));
            assertThat(reader.read()).as("chunk %d", chunk).isEqualTo(new PacedHttpsLoad.Response(200, false));
            assertThat(reader.read()).as("chunk %d", chunk).isEqualTo(new PacedHttpsLoad.Response(404, false));
            assertThat(reader.read()).as("chunk %d", chunk).isEqualTo(new PacedHttpsLoad.Response(200, true));
            assertThatThrownBy(reader::read).hasMessageContaining("closed the connection");
        }
    }

    @Test
    void refusesWhatIsNotAnHttpResponse() {
        var reader = new PacedHttpsLoad.ResponseReader(trickle("SSH-2.0-OpenSSH_9.2\r\n\r\n", 4));
        assertThatThrownBy(reader::read).hasMessageContaining("not an HTTP/1.x status line: SSH-2.0-OpenSSH_9.2");
        var noLength = new PacedHttpsLoad.ResponseReader(trickle("HTTP/1.1 200 OK\r\n\r\nbody", 4));
        assertThatThrownBy(noLength::read).hasMessageContaining("without Content-Length");
    }

    /** A stream that answers at most {@code chunk} bytes per read, as a socket may. */
    private static InputStream trickle(String text, int chunk) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1)) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, chunk));
            }
        };
    }
}
