package io.javastor.gateway.events;

import java.time.Instant;
import java.time.format.DateTimeParseException;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import com.google.protobuf.Timestamp;

import io.javastor.api.core.v1.ListEventsRequest;
import io.javastor.api.core.v1.ListEventsResponse;
import io.javastor.gateway.coreclient.CoreAgentClient;
import io.javastor.gateway.errors.ApiException;
import io.javastor.gateway.validation.InputRules;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;

@RestController
@RequestMapping("/v0")
@Tag(name = "Events")
public class EventController {

    static final int DEFAULT_PAGE_SIZE = 50;
    static final int MAX_PAGE_SIZE = 1000;

    private final CoreAgentClient agent;

    public EventController(CoreAgentClient agent) {
        this.agent = agent;
    }

    @Operation(summary = "The core agent's event history, newest first, filtered and paged")
    @GetMapping("/events")
    public EventPage getEvents(
            @Parameter(description = "only events of this resource (node, pool, replica or volume id)") @RequestParam(name = "resource_id", required = false) String resourceId,
            @Parameter(description = "only this kind, e.g. VolumeCreated") @RequestParam(name = "kind", required = false) String kind,
            @Parameter(description = "ISO-8601 instant, e.g. 2026-01-01T00:00:00Z") @RequestParam(name = "from", required = false) String from,
            @Parameter(description = "ISO-8601 instant; must be after from") @RequestParam(name = "to", required = false) String to,
            @Parameter(description = "page number from 0") @RequestParam(name = "page", required = false) Integer page,
            @Parameter(description = "1..1000, default 50") @RequestParam(name = "page_size", required = false) Integer pageSize) {
        ListEventsRequest.Builder request = ListEventsRequest.newBuilder();
        if (resourceId != null) {
            request.setResourceId(nonBlank("resource_id", resourceId));
        }
        if (kind != null) {
            request.setKind(nonBlank("kind", kind));
        }
        Instant fromTime = from == null ? null : instant("from", from);
        Instant toTime = to == null ? null : instant("to", to);
        if (fromTime != null && toTime != null && !toTime.isAfter(fromTime)) {
            throw ApiException.invalid("to", "must be after from");
        }
        if (fromTime != null) {
            request.setFrom(timestamp(fromTime));
        }
        if (toTime != null) {
            request.setTo(timestamp(toTime));
        }
        int p = InputRules.nonNegative("page", page, 0);
        Integer size = InputRules.range("page_size", pageSize, 1, MAX_PAGE_SIZE);
        int s = size == null ? DEFAULT_PAGE_SIZE : size;
        request.setPage(p).setPageSize(s);
        ListEventsResponse answer = agent.idempotent(a -> a.events().listEvents(request.build()));
        boolean more = (long) (p + 1) * s < answer.getTotal();
        return new EventPage(answer.getEventsList().stream().map(Event::from).toList(), answer.getTotal(), more ? p + 1 : null);
    }

    private static String nonBlank(String field, String value) {
        if (value.isBlank() || value.length() > 253) {
            throw ApiException.invalid(field, "must be 1-253 characters");
        }
        return value;
    }

    private static Instant instant(String field, String value) {
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw ApiException.invalid(field, "must be an ISO-8601 instant such as 2026-01-01T00:00:00Z, got '" + value + "'");
        }
    }

    private static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }
}
