package io.javastor.gateway.openapi;

import java.util.List;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.info.License;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import io.swagger.v3.oas.models.servers.Server;

/**
 * The OpenAPI document's header. The server is "/" (relative) so the document is the same on every
 * host and port: the committed copy (src/main/openapi) stays comparable with the served one.
 */
@Configuration
public class OpenApiConfiguration {

    @Bean
    OpenAPI javastorOpenApi() {
        return new OpenAPI()
                .info(new Info().title("Javastor REST API").version("v0")
                        .description("Replicated NVMe-oF block storage. Paths and shapes follow OpenEBS Mayastor's v0 API. "
                                + "Errors are {kind, message, details}. Every call sends 'Authorization: Bearer TOKEN' with a "
                                + "token whose role covers it: viewer (GET), operator (also volumes and watches), admin "
                                + "(everything); `./javastor token ROLE` issues one. 401: no valid token; 403: role too small.")
                        .license(new License().name("Apache-2.0").identifier("Apache-2.0")))
                .servers(List.of(new Server().url("/")))
                .components(new Components().addSecuritySchemes("bearer",
                        new SecurityScheme().type(SecurityScheme.Type.HTTP).scheme("bearer").bearerFormat("JWT")))
                .addSecurityItem(new SecurityRequirement().addList("bearer"));
    }
}
