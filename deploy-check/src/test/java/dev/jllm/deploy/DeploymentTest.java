package dev.jllm.deploy;

import dev.jllm.contracts.Topics;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static dev.jllm.deploy.DeploymentChecks.list;
import static dev.jllm.deploy.DeploymentChecks.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** docker-compose.yml, the Dockerfiles and k8s/ agree with the services' code and with Topics. */
class DeploymentTest {
    static Path repo;
    static Map<String, ServiceCode> services;

    @BeforeAll
    static void load() {
        repo = DeploymentFiles.repo();
        services = ServiceCode.all(repo);
    }

    static void assertNoProblems(String what, List<String> problems) {
        if (!problems.isEmpty()) fail(what + ": " + problems.size() + " problem(s):\n  " + String.join("\n  ", problems));
    }

    @Test
    void findsTheFourServices() {
        assertEquals(Set.of("gateway-service", "tokenizer-service", "inference-service", "session-service"),
                services.keySet(), "services found in " + repo);
    }

    @Test
    void composeAgreesWithTheCode() {
        Map<String, Object> compose = DeploymentFiles.loadMap(repo.resolve("docker-compose.yml"));
        assertNoProblems("docker-compose.yml",
                DeploymentChecks.checkCompose(compose, services, repo, Topics.ALL, Topics.PARTITIONS));
    }

    @Test
    void composeCpuVariantOnlyDropsTheGpuReservation() {
        Map<String, Object> cpu = DeploymentFiles.loadMap(repo.resolve("docker-compose.cpu.yml"));
        Map<String, Object> overridden = map(cpu.get("services"));
        assertEquals(DeploymentChecks.GPU_SERVICES, overridden.keySet(), "services docker-compose.cpu.yml overrides");
        for (String s : DeploymentChecks.GPU_SERVICES)
            assertEquals(Map.of("deploy", DeploymentFiles.RESET), overridden.get(s),
                    "docker-compose.cpu.yml should only reset " + s + "'s deploy: (the GPU reservation)");
    }

    @Test
    void dockerfilesAgreeWithTheCode() throws IOException {
        List<String> problems = new ArrayList<>();
        for (ServiceCode c : services.values()) {
            Path dockerfile = c.dir().resolve("Dockerfile");
            if (!Files.isRegularFile(dockerfile)) problems.add(c.name() + " has no Dockerfile");
            else problems.addAll(DeploymentChecks.checkDockerfile(Files.readString(dockerfile), c));
        }
        assertNoProblems("Dockerfiles", problems);
    }

    @Test
    void kubernetesAgreesWithTheCode() {
        assertNoProblems("k8s/base/", DeploymentChecks.checkKubernetes(DeploymentFiles.kubernetesDocs(repo), services,
                Topics.ALL, Topics.PARTITIONS));
    }

    @Test
    void kustomizationListsEveryManifest() {
        Map<String, Object> k = DeploymentFiles.loadMap(repo.resolve("k8s/base/kustomization.yaml"));
        Set<String> listed = new TreeSet<>(DeploymentChecks.strings(k.get("resources")));
        Set<String> present = new TreeSet<>();
        for (Path f : DeploymentFiles.manifests(repo)) present.add(f.getFileName().toString());
        assertEquals(present, listed, "k8s/base/kustomization.yaml resources vs the manifests in k8s/base/");
        Set<String> images = new TreeSet<>();
        for (Object o : list(k.get("images"))) images.add(String.valueOf(map(o).get("name")));
        for (String s : services.keySet())
            assertTrue(images.contains("jllm/" + s), "k8s/base/kustomization.yaml images: lacks jllm/" + s);
    }

    /**
     * Builds both variants with the real kustomize (kubectl's) when it is installed, and checks the built GPU
     * variant: the same objects as the base, and inference-service limited to one nvidia.com/gpu.
     */
    @Test
    void kustomizeBuildsBothVariants() throws Exception {
        Assumptions.assumeTrue(onPath("kubectl"), "kubectl not installed: kustomize build not checked");
        List<Map<String, Object>> base = kustomize("k8s/base"), gpu = kustomize("k8s/gpu");
        assertEquals(names(base), names(gpu), "objects of k8s/gpu/ vs k8s/base/");
        for (Map<String, Object> d : base)
            if (!"Namespace".equals(d.get("kind"))) assertEquals("jllm", map(d.get("metadata")).get("namespace"), "namespace of " + d.get("kind") + "/" + map(d.get("metadata")).get("name"));
        for (Map<String, Object> d : gpu) {
            if (!"Deployment".equals(d.get("kind"))) continue;
            String name = String.valueOf(map(d.get("metadata")).get("name"));
            Map<String, Object> container = map(list(DeploymentChecks.podSpec(d).get("containers")).getFirst());
            Object gpus = map(map(container.get("resources")).get("limits")).get("nvidia.com/gpu");
            assertEquals(DeploymentChecks.GPU_SERVICES.contains(name) ? "1" : "null", String.valueOf(gpus),
                    name + " limits.nvidia.com/gpu in the built k8s/gpu/");
        }
    }

    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
            if (Files.isExecutable(Path.of(dir, tool))) return true;
        return false;
    }

    static List<Map<String, Object>> kustomize(String dir) throws Exception {
        Process p = new ProcessBuilder("kubectl", "kustomize", repo.resolve(dir).toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "kubectl kustomize " + dir + " did not finish");
        assertEquals(0, p.exitValue(), "kubectl kustomize " + dir + " failed:\n" + out);
        Path tmp = Files.createTempFile("kustomize", ".yaml");
        try {
            Files.writeString(tmp, out);
            return DeploymentFiles.loadAll(tmp);
        } finally {
            Files.delete(tmp);
        }
    }

    static Set<String> names(List<Map<String, Object>> docs) {
        Set<String> out = new TreeSet<>();
        for (Map<String, Object> d : docs) out.add(d.get("kind") + "/" + map(d.get("metadata")).get("name"));
        return out;
    }

    /** Applies the GPU variant's JSON patches to the base Deployment, as kustomize would, and reads the result. */
    @Test
    void gpuVariantGivesInferenceOneGpu() {
        Map<String, Object> k = DeploymentFiles.loadMap(repo.resolve("k8s/gpu/kustomization.yaml"));
        assertEquals(List.of("../base"), DeploymentChecks.strings(k.get("resources")), "k8s/gpu/ builds on k8s/base/");
        for (String gpuService : DeploymentChecks.GPU_SERVICES) {
            Map<String, Object> deployment = DeploymentFiles.kubernetesDocs(repo).stream()
                    .filter(d -> "Deployment".equals(d.get("kind")) && gpuService.equals(map(d.get("metadata")).get("name")))
                    .findFirst().orElseThrow(() -> new AssertionError("no Deployment " + gpuService));
            int applied = 0;
            for (Object p : list(k.get("patches"))) {
                Map<String, Object> target = map(map(p).get("target"));
                if (!"Deployment".equals(target.get("kind")) || !gpuService.equals(target.get("name"))) continue;
                for (Object op : list(new org.yaml.snakeyaml.Yaml().load(String.valueOf(map(p).get("patch"))))) {
                    JsonPatch.apply(deployment, map(op));
                    applied++;
                }
            }
            assertTrue(applied > 0, "k8s/gpu/kustomization.yaml patches nothing in " + gpuService);
            Map<String, Object> container = map(list(DeploymentChecks.podSpec(deployment).get("containers")).getFirst());
            Object gpus = map(map(container.get("resources")).get("limits")).get("nvidia.com/gpu");
            assertEquals("1", String.valueOf(gpus), gpuService + " limits.nvidia.com/gpu after the k8s/gpu/ patches");
        }
    }
}
