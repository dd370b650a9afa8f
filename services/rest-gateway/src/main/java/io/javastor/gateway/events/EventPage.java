package io.javastor.gateway.events;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

@JsonInclude(JsonInclude.Include.NON_NULL)
@Schema(name = "Events", requiredProperties = {"entries", "total"})
public record EventPage(@Schema(description = "newest first") List<Event> entries,
        @Schema(description = "events matching the filters, over all pages") long total,
        @Schema(description = "the next page's number; absent on the last page") @JsonProperty("next_page") Integer nextPage) {
}
