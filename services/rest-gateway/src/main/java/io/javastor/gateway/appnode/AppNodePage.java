package io.javastor.gateway.appnode;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

@JsonInclude(JsonInclude.Include.NON_NULL)
@Schema(name = "AppNodes", requiredProperties = {"entries"})
public record AppNodePage(List<AppNode> entries,
        @Schema(description = "pass as starting_token for the next page; absent on the last page") @JsonProperty("next_token") Long nextToken) {
}
