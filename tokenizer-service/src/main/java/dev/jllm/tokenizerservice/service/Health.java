package dev.jllm.tokenizerservice.service;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready once the tokenizer is loaded. */
@Readiness
@ApplicationScoped
public class Health implements HealthCheck {
    @Inject ModelTokenizer model;

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("tokenizer-loaded").status(model.ready()).build();
    }
}
