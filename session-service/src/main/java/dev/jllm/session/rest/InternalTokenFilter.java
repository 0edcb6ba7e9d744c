package dev.jllm.session.rest;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code /internal} API (everything but health) answers only callers that send the shared secret
 * {@code jllm.internal-token} ({@code JLLM_INTERNAL_TOKEN}) in {@code X-Internal-Token}: 401 otherwise. Without a
 * configured token the API is open (a local stack whose services listen on 127.0.0.1 only).
 */
public class InternalTokenFilter {
    public static final String HEADER = "X-Internal-Token";

    @ConfigProperty(name = "jllm.internal-token")
    Optional<String> token;

    @ServerRequestFilter
    public Optional<Response> check(ContainerRequestContext request) {
        if (token.isEmpty() || !request.getUriInfo().getPath().startsWith("/internal/")) return Optional.empty();
        String given = request.getHeaderString(HEADER);
        if (given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token.get().getBytes(StandardCharsets.UTF_8))) {
            return Optional.empty();
        }
        return Optional.of(Response.status(401).type(MediaType.APPLICATION_JSON).entity(Map.of("error", Map.of(
                "message", given == null ? "Missing " + HEADER + "." : "Incorrect " + HEADER + ".",
                "type", "invalid_request_error", "code", "invalid_internal_token"))).build());
    }
}
