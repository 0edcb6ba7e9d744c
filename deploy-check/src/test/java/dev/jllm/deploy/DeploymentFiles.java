package dev.jllm.deploy;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.AbstractConstruct;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.Tag;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Finds and parses the repository's deployment files. */
final class DeploymentFiles {
    private DeploymentFiles() {}

    /** Compose's {@code !reset} tag (drop the inherited value) reads as this marker. */
    static final String RESET = "!reset";

    static Path repo() {
        Path repo = Path.of(System.getProperty("jllm.repo.dir", "..")).toAbsolutePath().normalize();
        if (!Files.isRegularFile(repo.resolve("pom.xml")) || !Files.isDirectory(repo.resolve("contracts")))
            throw new IllegalStateException("not the jllm repository root: " + repo + " (set -Djllm.repo.dir)");
        return repo;
    }

    /** SnakeYAML's safe constructor plus the compose-specific {@code !reset} tag. */
    private static final class ComposeConstructor extends SafeConstructor {
        ComposeConstructor(LoaderOptions options) {
            super(options);
            yamlConstructors.put(new Tag(RESET), new AbstractConstruct() {
                @Override
                public Object construct(Node node) {
                    return RESET;
                }
            });
        }
    }

    private static Yaml yaml() {
        LoaderOptions options = new LoaderOptions();
        return new Yaml(new ComposeConstructor(options));
    }

    static Map<String, Object> loadMap(Path file) {
        try {
            Object o = yaml().load(Files.readString(file));
            return DeploymentChecks.map(o);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** Every document of a multi-document YAML file. */
    static List<Map<String, Object>> loadAll(Path file) {
        List<Map<String, Object>> out = new ArrayList<>();
        try {
            for (Object o : yaml().loadAll(Files.readString(file)))
                if (o != null) out.add(DeploymentChecks.map(o));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return out;
    }

    /** The base manifests: k8s/base/ without its kustomization.yaml (variants such as k8s/gpu/ patch them). */
    static List<Path> manifests(Path repo) {
        try (Stream<Path> files = Files.list(repo.resolve("k8s/base"))) {
            return files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
                    .filter(f -> !f.getFileName().toString().startsWith("kustomization"))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Map<String, Object>> kubernetesDocs(Path repo) {
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Path f : manifests(repo)) docs.addAll(loadAll(f));
        return docs;
    }
}
