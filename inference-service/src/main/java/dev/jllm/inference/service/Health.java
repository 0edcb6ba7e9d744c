package dev.jllm.inference.service;

import dev.jllm.inference.messaging.InferenceCommandConsumer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready once the model is loaded, the scheduler runs and the command consumer's loop runs. */
@Readiness
@ApplicationScoped
public class Health implements HealthCheck {
    @Inject InferenceEngine engine;
    @Inject InferenceCommandConsumer commands;

    @Override
    public HealthCheckResponse call() {
        var b = HealthCheckResponse.named("model-loaded").status(engine.ready() && commands.running())
                .withData("commands_consumer", commands.running() ? "running" : "stopped");
        if (engine.ready()) {
            var s = engine.scheduler().stats();
            b.withData("queued", s.queued()).withData("running", s.running()).withData("kv_bytes_reserved", s.kvBytesReserved())
                    .withData("tokens_generated", s.tokensGenerated()).withData("cancelled", s.cancelled())
                    .withData("cancels_received", s.cancelsReceived())
                    .withData("sessions", s.sessions()).withData("session_bytes", s.sessionBytes());
        }
        return b.build();
    }
}
