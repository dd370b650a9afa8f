package io.javastor.gateway.volume;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

@JsonInclude(JsonInclude.Include.NON_NULL)
@Schema(name = "Volumes", requiredProperties = {"entries"})
public record VolumePage(List<Volume> entries,
        @Schema(description = "pass as starting_token for the next page; absent on the last page") @JsonProperty("next_token") Long nextToken) {
}
