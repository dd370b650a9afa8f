package io.javastor.gateway.openapi;

import java.util.Map;

import org.springdoc.core.customizers.GlobalOpenApiCustomizer;
import org.springframework.stereotype.Component;

import io.javastor.gateway.errors.RestError;
import io.swagger.v3.core.converter.ModelConverters;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.responses.ApiResponse;

/** Documents the error body on every operation: any non-2xx answer is a RestJsonError. */
@Component
public class ErrorResponsesCustomizer implements GlobalOpenApiCustomizer {

    @Override
    public void customise(io.swagger.v3.oas.models.OpenAPI openApi) {
        Map<String, Schema> schemas = ModelConverters.getInstance().read(RestError.class);
        schemas.forEach(openApi.getComponents()::addSchemas);
        ApiResponse error = new ApiResponse()
                .description("An error: 400 bad input (the message names the field), 401, 404, 405, 409 conflict or in use, 412, "
                        + "415, 422 not supported, 501 not implemented by the core agent, 503 core agent unreachable or timed out, "
                        + "507 no capacity")
                .content(new Content().addMediaType("application/json",
                        new MediaType().schema(new Schema<>().$ref("#/components/schemas/RestJsonError"))));
        openApi.getPaths().values().forEach(path -> path.readOperations()
                .forEach(op -> op.getResponses().addApiResponse("default", error)));
    }
}
