package io.javastor.gateway.volume;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import org.springframework.stereotype.Component;

import io.javastor.api.core.v1.ListNexusesResponse;
import io.javastor.api.core.v1.ListVolumesResponse;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON body of the latest volume listing, reused while the core agent answers the same.
 *
 * <p>Writing a listing of 1,000 volumes (~370 kB of JSON) was half of the gateway's CPU per listing (Jackson 44 %, the
 * mapping from the agent's messages 9 %; docs/benchmarks.md, rest). The body is a pure function of the agent's two
 * answers (the page of volumes and, when one is published, the nexuses), so an answer equal to the last one (protobuf
 * equality: every field) gives the same bytes; comparing costs a fraction of writing. Only the latest is kept: pollers
 * of the whole list (CSI, dashboards, operators' scripts) ask the same page over and over; another page just replaces it.
 */
@Component
public class VolumeListingJson {

    private record Last(ListVolumesResponse volumes, ListNexusesResponse nexuses, byte[] json) {
    }

    private final JsonMapper json;
    private final AtomicReference<Last> last = new AtomicReference<>();

    /** @param json the mapper Spring MVC writes responses with, so a body is what the controller's return value would give */
    public VolumeListingJson(JsonMapper json) {
        this.json = json;
    }

    /**
     * The JSON of the page built from these answers: the last body when both equal the last ones, otherwise
     * {@code page} written now (and kept). {@code nexuses} is null when the page was built without them.
     */
    byte[] of(ListVolumesResponse volumes, ListNexusesResponse nexuses, Supplier<VolumePage> page) {
        Last l = last.get();
        if (l != null && l.volumes().equals(volumes) && Objects.equals(l.nexuses(), nexuses)) {
            return l.json();
        }
        byte[] body = json.writeValueAsBytes(page.get());
        last.set(new Last(volumes, nexuses, body));
        return body;
    }
}
