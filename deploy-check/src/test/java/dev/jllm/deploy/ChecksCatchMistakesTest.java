package dev.jllm.deploy;

import dev.jllm.contracts.Topics;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static dev.jllm.deploy.DeploymentChecks.list;
import static dev.jllm.deploy.DeploymentChecks.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each check fails on the mistake it exists for: the real files, broken in one place, must produce a problem
 * that names it (and the unbroken files none, see {@link DeploymentTest}).
 */
class ChecksCatchMistakesTest {
    static Path repo;
    static Map<String, ServiceCode> services;

    @BeforeAll
    static void load() {
        repo = DeploymentFiles.repo();
        services = ServiceCode.all(repo);
    }

    // ---- what the code says, derived by ServiceCode: expected values from the services' documentation

    @Test
    void derivesEnvironmentNamesTheWayMicroProfileDoes() {
        assertEquals("JLLM_GATEWAY_API_KEYS", ServiceCode.envName("jllm.gateway.api-keys"));
        assertEquals("max-in-flight", ServiceCode.kebab("maxInFlight"));
        assertEquals("kv-budget-mb", ServiceCode.kebab("kvBudgetMb"));
    }

    @Test
    void readsEachServicesVariables() {
        ServiceCode gateway = services.get("gateway-service");
        assertEquals("GATEWAY_PORT", gateway.portVar());
        assertEquals(8080, gateway.defaultPort());
        assertTrue(gateway.reads("JLLM_GATEWAY_API_KEYS"), "gateway reads JLLM_GATEWAY_API_KEYS (@ConfigMapping)");
        assertTrue(gateway.reads("JLLM_MODEL_NAME"), "gateway reads JLLM_MODEL_NAME (application.properties)");
        assertTrue(!gateway.reads("MODEL"), "gateway does not read MODEL");
        assertEquals(8082, services.get("inference-service").defaultPort());
        assertTrue(services.get("inference-service").requiredVars().contains("MODEL"), "inference needs MODEL");
        assertTrue(services.get("tokenizer-service").requiredVars().contains("MODEL"), "tokenizer needs MODEL");
        assertTrue(services.get("session-service").localhostDefaults().contains("JLLM_JDBC_URL"), "session's JDBC URL defaults to localhost");
        assertTrue(services.get("session-service").localhostDefaults().contains("KAFKA_BOOTSTRAP_SERVERS"), "Kafka defaults to localhost");
        assertEquals("HTTP_HOST", services.get("session-service").hostVar());
    }

    // ---- docker-compose.yml

    static List<String> composeProblems(Consumer<Map<String, Object>> mistake) {
        Map<String, Object> compose = DeploymentFiles.loadMap(repo.resolve("docker-compose.yml"));
        mistake.accept(compose);
        return DeploymentChecks.checkCompose(compose, services, repo, Topics.ALL, Topics.PARTITIONS);
    }

    static Map<String, Object> service(Map<String, Object> compose, String name) {
        return map(map(compose.get("services")).get(name));
    }

    static Map<String, Object> env(Map<String, Object> compose, String name) {
        return map(service(compose, name).get("environment"));
    }

    static void assertFound(List<String> problems, String... fragments) {
        boolean found = problems.stream().anyMatch(p -> List.of(fragments).stream().allMatch(p::contains));
        assertTrue(found, "expected a problem mentioning " + List.of(fragments) + ", got " + problems);
    }

    @Test
    void composeWrongPortMapping() {
        assertFound(composeProblems(c -> service(c, "gateway-service").put("ports", List.of("8080:9090"))),
                "gateway-service", "container port 9090", "listens on 8080");
    }

    @Test
    void composePortVariableMovesThePort() {
        // the service then listens on 9000, so the unchanged mapping to 8080 is wrong
        assertFound(composeProblems(c -> env(c, "gateway-service").put("GATEWAY_PORT", 9000)),
                "gateway-service", "container port 8080", "listens on 9000");
    }

    @Test
    void composeVariableTheServiceDoesNotRead() {
        assertFound(composeProblems(c -> env(c, "gateway-service").put("JLLM_GATEWAY_MAX_INFLIGHT", "10")),
                "gateway-service", "JLLM_GATEWAY_MAX_INFLIGHT", "does not read");
        assertFound(composeProblems(c -> env(c, "session-service").put("MODEL", "/models/x.gguf")),
                "session-service", "MODEL", "does not read");
    }

    @Test
    void composeMissingRequiredModel() {
        assertFound(composeProblems(c -> env(c, "inference-service").remove("MODEL")),
                "inference-service", "does not pass MODEL");
    }

    @Test
    void composeMissingKafkaAddress() {
        assertFound(composeProblems(c -> env(c, "session-service").remove("KAFKA_BOOTSTRAP_SERVERS")),
                "session-service", "KAFKA_BOOTSTRAP_SERVERS", "localhost");
    }

    @Test
    void composeLoopbackListenAddress() {
        assertFound(composeProblems(c -> env(c, "tokenizer-service").put("HTTP_HOST", "127.0.0.1")),
                "tokenizer-service", "HTTP_HOST=127.0.0.1", "0.0.0.0");
    }

    @Test
    void composeTopicsDifferFromTopicsJava() {
        Consumer<Map<String, Object>> dropDeadLetters = c -> {
            Map<String, Object> init = service(c, "kafka-init");
            String script = String.join("\n", DeploymentChecks.strings(init.get("command")));
            init.put("command", List.of(script.replaceAll("(?m)^.*--topic dead-letters.*$", "")));
        };
        assertFound(composeProblems(dropDeadLetters), "does not create topic dead-letters");
        Consumer<Map<String, Object>> extraTopic = c -> {
            Map<String, Object> init = service(c, "kafka-init");
            String script = String.join("\n", DeploymentChecks.strings(init.get("command")));
            init.put("command", List.of(script + "\nkafka-topics.sh --create --topic completion-request --partitions 4"));
        };
        assertFound(composeProblems(extraTopic), "completion-request,", "not in Topics.ALL");
        Consumer<Map<String, Object>> onePartition = c -> {
            Map<String, Object> init = service(c, "kafka-init");
            String script = String.join("\n", DeploymentChecks.strings(init.get("command")));
            init.put("command", List.of(script.replace("--topic generation-events --partitions 4", "--topic generation-events --partitions 1")));
        };
        assertFound(composeProblems(onePartition), "generation-events with 1 partitions");
    }

    @Test
    void composeStartOrder() {
        assertFound(composeProblems(c -> map(service(c, "session-service").get("depends_on")).remove("postgres")),
                "session-service", "uses postgres", "service_healthy");
        assertFound(composeProblems(c -> map(service(c, "gateway-service").get("depends_on")).remove("kafka-init")),
                "gateway-service", "kafka-init", "service_completed_successfully");
    }

    @Test
    void composeGpuAndModelMount() {
        assertFound(composeProblems(c -> service(c, "inference-service").remove("deploy")),
                "inference-service", "reserves no GPU");
        assertFound(composeProblems(c -> service(c, "tokenizer-service").put("volumes", List.of("./models:/models"))),
                "tokenizer-service", "writable");
        assertFound(composeProblems(c -> service(c, "tokenizer-service").put("volumes", List.of("./models:/data:ro"))),
                "tokenizer-service", "mounts no volume there");
    }

    @Test
    void composeWiringToKafkaAndPostgres() {
        assertFound(composeProblems(c -> env(c, "gateway-service").put("KAFKA_BOOTSTRAP_SERVERS", "kafka:29092")),
                "gateway-service", "bootstraps from kafka:29092", "does not advertise");
        assertFound(composeProblems(c -> env(c, "session-service").put("JLLM_JDBC_URL", "jdbc:postgresql://postgres:5432/sessions")),
                "session-service", "database sessions", "creates jllm");
        assertFound(composeProblems(c -> env(c, "postgres").put("POSTGRES_USER", "admin")),
                "session-service", "logs in as jllm", "creates user admin");
        assertFound(composeProblems(c -> env(c, "session-service").put("JLLM_JDBC_PASSWORD", "secret")),
                "session-service", "JLLM_JDBC_PASSWORD", "POSTGRES_PASSWORD");
    }

    @Test
    void composeBuildWithoutDockerfile() {
        assertFound(composeProblems(c -> service(c, "gateway-service").put("build", "./contracts")),
                "gateway-service", "builds ./contracts", "no Dockerfile");
    }

    // ---- Dockerfiles

    static List<String> dockerfileProblems(String service, String from, String to) throws IOException {
        String text = Files.readString(repo.resolve(service).resolve("Dockerfile"));
        assertTrue(text.contains(from), service + "/Dockerfile should contain " + from);
        return DeploymentChecks.checkDockerfile(text.replace(from, to), services.get(service));
    }

    @Test
    void dockerfileMistakes() throws IOException {
        assertFound(dockerfileProblems("gateway-service", "/q/health/ready", "/health"), "HEALTHCHECK", READY_OR_LIVE);
        assertFound(dockerfileProblems("inference-service", "EXPOSE 8082", "EXPOSE 8080"), "does not EXPOSE 8082");
        assertFound(dockerfileProblems("session-service", "\"--add-modules=jdk.incubator.vector\", ", ""),
                "--add-modules=jdk.incubator.vector");
        assertFound(dockerfileProblems("tokenizer-service", "USER 10001", "USER root"), "runs as root");
        assertFound(dockerfileProblems("tokenizer-service", "FROM eclipse-temurin:25-jre", "FROM eclipse-temurin:21-jre"),
                "eclipse-temurin:25");
        assertFound(dockerfileProblems("gateway-service", "ENV GATEWAY_PORT=8080", "ENV GATEWAY_PORT=8080 QUARKUS_PROFILE_X=1"),
                "QUARKUS_PROFILE_X", "does not read");
    }

    static final String READY_OR_LIVE = "/q/health/ready";

    // ---- Kubernetes

    static List<String> kubernetesProblems(Consumer<List<Map<String, Object>>> mistake) {
        List<Map<String, Object>> docs = DeploymentFiles.kubernetesDocs(repo);
        mistake.accept(docs);
        return DeploymentChecks.checkKubernetes(docs, services, Topics.ALL, Topics.PARTITIONS);
    }

    static Map<String, Object> doc(List<Map<String, Object>> docs, String kind, String name) {
        return docs.stream().filter(d -> kind.equals(d.get("kind")) && name.equals(map(d.get("metadata")).get("name")))
                .findFirst().orElseThrow(() -> new AssertionError("no " + kind + "/" + name + " in k8s/"));
    }

    static Map<String, Object> container(List<Map<String, Object>> docs, String deployment) {
        return map(list(DeploymentChecks.podSpec(doc(docs, "Deployment", deployment)).get("containers")).getFirst());
    }

    @Test
    void kubernetesProbeAndPortMistakes() {
        assertFound(kubernetesProblems(d -> map(map(container(d, "session-service").get("readinessProbe")).get("httpGet")).put("path", "/healthz")),
                "session-service", "readinessProbe calls /healthz");
        assertFound(kubernetesProblems(d -> map(list(container(d, "gateway-service").get("ports")).getFirst()).put("containerPort", 9000)),
                "gateway-service", "containerPort [9000]");
        assertFound(kubernetesProblems(d -> map(list(map(doc(d, "Service", "tokenizer-service").get("spec")).get("ports")).getFirst()).put("targetPort", 1234)),
                "Service/tokenizer-service", "targets port 1234");
        assertFound(kubernetesProblems(d -> container(d, "inference-service").remove("livenessProbe")),
                "inference-service", "no livenessProbe");
    }

    @Test
    void kubernetesEnvironmentMistakes() {
        assertFound(kubernetesProblems(d -> map(doc(d, "ConfigMap", "jllm-config").get("data")).remove("MODEL")),
                "ConfigMap/jllm-config key MODEL");
        assertFound(kubernetesProblems(d -> list(container(d, "tokenizer-service").get("env")).removeIf(e -> "MODEL".equals(map(e).get("name")))),
                "tokenizer-service", "does not pass MODEL");
        assertFound(kubernetesProblems(d -> DeploymentChecks.podSpec(doc(d, "StatefulSet", "kafka")).remove("enableServiceLinks")),
                "StatefulSet/kafka", "enableServiceLinks");
        assertFound(kubernetesProblems(d -> map(list(container(d, "inference-service").get("volumeMounts")).getFirst()).put("readOnly", false)),
                "inference-service", "writable");
    }

    @Test
    void kubernetesWiringToKafkaAndPostgres() {
        assertFound(kubernetesProblems(d -> map(doc(d, "ConfigMap", "jllm-config").get("data")).put("KAFKA_BOOTSTRAP_SERVERS", "kafka:9093")),
                "bootstraps from kafka:9093", "does not advertise");
        assertFound(kubernetesProblems(d -> list(container(d, "session-service").get("env")).replaceAll(e ->
                        "JLLM_JDBC_USER".equals(map(e).get("name")) ? Map.of("name", "JLLM_JDBC_USER", "value", "root") : e)),
                "session-service", "logs in as root", "creates user jllm");
    }

    @Test
    void kubernetesTopicMistakes() {
        assertFound(kubernetesProblems(d -> {
            Map<String, Object> c = map(list(DeploymentChecks.podSpec(doc(d, "Job", "kafka-topics")).get("containers")).getFirst());
            List<String> cmd = DeploymentChecks.strings(c.get("command"));
            c.put("command", cmd.stream().map(s -> s.replaceAll("(?m)^.*--topic inference-commands.*$", "")).toList());
        }), "does not create topic inference-commands");
    }
}
