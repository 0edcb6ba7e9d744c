package dev.jllm.tokenizerservice.service;

import dev.jllm.tokenizerservice.messaging.CompletionRequestConsumer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready once the tokenizer is loaded and the request consumer's loop runs. */
@Readiness
@ApplicationScoped
public class Health implements HealthCheck {
    @Inject ModelTokenizer model;
    @Inject CompletionRequestConsumer requests;

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("tokenizer-loaded").status(model.ready() && requests.running())
                .withData("requests_consumer", requests.running() ? "running" : "stopped").build();
    }
}
