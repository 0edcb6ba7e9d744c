package dev.jllm.session;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.restassured.specification.RequestSpecification;

import java.util.Map;

import static io.restassured.RestAssured.given;

/** Configures the shared secret for the tests (a test resource) and sends it ({@link #api()}). */
public class InternalApi implements QuarkusTestResourceLifecycleManager {
    static final String TOKEN = "test-internal-token";

    @Override
    public Map<String, String> start() {
        return Map.of("jllm.internal-token", TOKEN);
    }

    @Override
    public void stop() {}

    /** A request to the internal API with the right token. */
    static RequestSpecification api() {
        return given().header("X-Internal-Token", TOKEN);
    }
}
