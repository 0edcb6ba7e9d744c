package dev.jllm.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks the deployment descriptors against the services' code. Each check returns the problems it found, one
 * sentence each naming the file, the service and what is wrong; an empty list means the descriptor agrees with
 * the code.
 */
final class DeploymentChecks {
    private DeploymentChecks() {}

    /** Services that need a GPU reservation in docker-compose.yml and a GPU variant in k8s/. */
    static final Set<String> GPU_SERVICES = Set.of("inference-service");
    static final String READY = "/q/health/ready";
    static final String LIVE = "/q/health/live";
    static final String STARTED = "/q/health/started";

    /** One {@code kafka-topics.sh --create} line: its topic and partition count (-1 when not given). */
    record TopicCreation(String topic, int partitions) {}

    private static final Pattern TOPIC = Pattern.compile("--topic[ =](\\S+)");
    private static final Pattern PARTITIONS = Pattern.compile("--partitions[ =](\\d+)");

    /** The topics a shell script creates with {@code kafka-topics.sh ... --create}. */
    static List<TopicCreation> topicCreations(String script) {
        List<TopicCreation> out = new ArrayList<>();
        for (String line : script.split("\n")) {
            if (!line.contains("kafka-topics") || !line.contains("--create")) continue;
            Matcher t = TOPIC.matcher(line), p = PARTITIONS.matcher(line);
            if (t.find()) out.add(new TopicCreation(t.group(1), p.find() ? Integer.parseInt(p.group(1)) : -1));
        }
        return out;
    }

    static void checkTopics(String where, List<TopicCreation> created, List<String> topics, int partitions,
                            List<String> problems) {
        Set<String> names = new TreeSet<>();
        for (TopicCreation c : created) {
            names.add(c.topic());
            if (!topics.contains(c.topic()))
                problems.add(where + " creates topic " + c.topic() + ", which is not in Topics.ALL " + topics);
            if (c.partitions() != partitions)
                problems.add(where + " creates topic " + c.topic() + " with " + c.partitions()
                        + " partitions; Topics.PARTITIONS is " + partitions);
        }
        for (String t : topics)
            if (!names.contains(t)) problems.add(where + " does not create topic " + t + " (in Topics.ALL)");
    }

    /** The environment checks shared by compose and Kubernetes: every variable read, every needed one passed. */
    static void checkEnv(String where, ServiceCode code, Map<String, String> env, List<String> problems) {
        for (String var : env.keySet())
            if (!code.reads(var))
                problems.add(where + " passes " + var + ", which " + code.name() + " does not read"
                        + " (not in its application.properties nor its @ConfigMapping)");
        for (String var : code.requiredVars())
            if (!env.containsKey(var))
                problems.add(where + " does not pass " + var + ", which " + code.name() + " needs (no default)");
        for (String var : code.localhostDefaults())
            if (!env.containsKey(var))
                problems.add(where + " does not pass " + var + ": " + code.name()
                        + " would use its default, localhost, which inside a container is the container itself");
        if (code.hostVar() != null && env.containsKey(code.hostVar()) && !"0.0.0.0".equals(env.get(code.hostVar())))
            problems.add(where + " sets " + code.hostVar() + "=" + env.get(code.hostVar())
                    + ": a container must listen on 0.0.0.0");
    }

    // ---------------------------------------------------------------------------------------------------------
    // docker-compose.yml

    static List<String> checkCompose(Map<String, Object> compose, Map<String, ServiceCode> code, Path repo,
                                     List<String> topics, int partitions) {
        List<String> problems = new ArrayList<>();
        Map<String, Object> services = map(compose.get("services"));
        for (String name : code.keySet())
            if (!services.containsKey(name)) problems.add("docker-compose.yml has no service " + name);

        // the one-shot topic creator(s)
        List<String> initServices = new ArrayList<>();
        List<TopicCreation> created = new ArrayList<>();
        for (Map.Entry<String, Object> e : services.entrySet()) {
            Map<String, Object> s = map(e.getValue());
            String script = String.join("\n", strings(s.get("entrypoint"))) + "\n" + String.join("\n", strings(s.get("command")));
            List<TopicCreation> c = topicCreations(script);
            if (!c.isEmpty()) {
                initServices.add(e.getKey());
                created.addAll(c);
            }
        }
        if (initServices.isEmpty()) problems.add("docker-compose.yml has no service that creates the topics (kafka-topics.sh --create)");
        else checkTopics("docker-compose.yml (" + String.join(", ", initServices) + ")", created, topics, partitions, problems);

        for (Map.Entry<String, Object> e : services.entrySet()) {
            String name = e.getKey();
            Map<String, Object> s = map(e.getValue());
            String where = "docker-compose.yml service " + name;
            Object build = s.get("build");
            if (build != null) {
                String context = build instanceof Map<?, ?> b ? String.valueOf(b.get("context")) : String.valueOf(build);
                Path dir = repo.resolve(context).normalize();
                if (!Files.isRegularFile(dir.resolve("Dockerfile")))
                    problems.add(where + " builds " + context + ", which has no Dockerfile");
                if (!code.containsKey(dir.getFileName().toString()))
                    problems.add(where + " builds " + context + ", which is not a service directory");
                else if (!dir.getFileName().toString().equals(name))
                    problems.add(where + " builds " + context + ": the service should be named after its directory");
            }
            ServiceCode c = code.get(name);
            if (c == null) continue;
            if (build == null) problems.add(where + " has no build: (the directory with its Dockerfile)");
            Map<String, String> env = composeEnv(s.get("environment"));
            checkEnv(where, c, env, problems);
            checkWiring(where, env, host -> services.containsKey(host) ? composeEnv(map(services.get(host)).get("environment")) : null,
                    problems);

            int port = c.port(env);
            for (Object p : list(s.get("ports"))) {
                String target = p instanceof Map<?, ?> m ? String.valueOf(m.get("target")) : containerPort(String.valueOf(p));
                if (!target.equals(String.valueOf(port)))
                    problems.add(where + " maps container port " + target + ", but " + name + " listens on " + port);
            }
            for (Object p : list(s.get("expose")))
                if (!containerPort(String.valueOf(p)).equals(String.valueOf(port)))
                    problems.add(where + " exposes port " + p + ", but " + name + " listens on " + port);

            Map<String, Object> healthcheck = map(s.get("healthcheck"));
            if (!healthcheck.isEmpty() && !String.join(" ", strings(healthcheck.get("test"))).contains("/q/health/"))
                problems.add(where + " has a healthcheck that does not use /q/health/: " + healthcheck.get("test"));

            // start order: topics created, and every server it addresses healthy
            Map<String, String> dependsOn = dependsOn(s.get("depends_on"));
            for (String init : initServices)
                if (!"service_completed_successfully".equals(dependsOn.get(init)))
                    problems.add(where + " does not depend on " + init + " with condition service_completed_successfully");
            for (String other : services.keySet()) {
                if (other.equals(name) || !addresses(env, other)) continue;
                if (!"service_healthy".equals(dependsOn.get(other)))
                    problems.add(where + " uses " + other + " but does not depend on it with condition service_healthy");
                if (map(map(services.get(other)).get("healthcheck")).isEmpty())
                    problems.add("docker-compose.yml service " + other + " has no healthcheck, so " + name + " cannot wait for it");
            }

            // files it is given by path (the model) come from a read-only mount
            List<String[]> mounts = new ArrayList<>();
            for (Object v : list(s.get("volumes"))) mounts.add(composeMount(v));
            for (Map.Entry<String, String> ev : env.entrySet()) {
                if (!ev.getValue().startsWith("/")) continue;
                String[] mount = mounts.stream().filter(m -> ev.getValue().startsWith(m[0] + "/")).findFirst().orElse(null);
                if (mount == null) problems.add(where + " passes " + ev.getKey() + "=" + ev.getValue() + " but mounts no volume there");
                else if (!"ro".equals(mount[1])) problems.add(where + " mounts " + mount[0] + " writable; the model should be read-only");
            }

            if (GPU_SERVICES.contains(name) && !hasGpuReservation(s))
                problems.add(where + " reserves no GPU (deploy.resources.reservations.devices with driver: nvidia, capabilities: [gpu])");
        }
        return problems;
    }

    static boolean hasGpuReservation(Map<String, Object> service) {
        Map<String, Object> reservations = map(map(map(service.get("deploy")).get("resources")).get("reservations"));
        for (Object d : list(reservations.get("devices"))) {
            Map<String, Object> dev = map(d);
            if ("nvidia".equals(dev.get("driver")) && strings(dev.get("capabilities")).contains("gpu")) return true;
        }
        return false;
    }

    /** Whether any variable's value names {@code host:port} of that host (kafka:9092, //postgres:5432/...). */
    static boolean addresses(Map<String, String> env, String host) {
        Pattern p = Pattern.compile("(?<![\\w.-])" + Pattern.quote(host) + ":\\d+");
        return env.values().stream().anyMatch(v -> p.matcher(v).find());
    }

    /** "8080", "127.0.0.1:8080:8080", "${P:-8080}:8080/tcp" -> "8080". */
    static String containerPort(String spec) {
        String s = spec.replaceAll("/(tcp|udp)$", "");
        return s.substring(s.lastIndexOf(':') + 1);
    }

    /** [mount target, "ro" or "rw"] of a short ("source:target:ro") or long volume entry. */
    static String[] composeMount(Object v) {
        if (v instanceof Map<?, ?> m)
            return new String[] {String.valueOf(m.get("target")), Boolean.TRUE.equals(m.get("read_only")) ? "ro" : "rw"};
        // the source may hold ${VAR:-default}, whose colons are not separators
        String[] parts = String.valueOf(v).replaceAll("\\$\\{[^}]*}", "X").split(":");
        if (parts.length == 1) return new String[] {parts[0], "rw"};
        return new String[] {parts[1], parts.length > 2 && List.of(parts[2].split(",")).contains("ro") ? "ro" : "rw"};
    }

    static Map<String, String> composeEnv(Object environment) {
        Map<String, String> env = new TreeMap<>();
        if (environment instanceof Map<?, ?> m) {
            m.forEach((k, v) -> env.put(String.valueOf(k), v == null ? "" : String.valueOf(v)));
        } else {
            for (Object o : list(environment)) {
                String s = String.valueOf(o);
                int eq = s.indexOf('=');
                env.put(eq < 0 ? s : s.substring(0, eq), eq < 0 ? "" : s.substring(eq + 1));
            }
        }
        return env;
    }

    static Map<String, String> dependsOn(Object dependsOn) {
        Map<String, String> out = new TreeMap<>();
        if (dependsOn instanceof Map<?, ?> m) {
            m.forEach((k, v) -> out.put(String.valueOf(k), String.valueOf(map(v).getOrDefault("condition", "service_started"))));
        } else {
            for (Object o : list(dependsOn)) out.put(String.valueOf(o), "service_started");
        }
        return out;
    }

    /**
     * The service's addresses lead to the servers the deployment runs, configured to match: Kafka advertises the
     * bootstrap address the service uses, and PostgreSQL's database, user and password are the ones in the
     * service's JDBC settings. {@code serverEnv} gives a server's environment by host name (null: not deployed
     * here, e.g. a managed server, which is not checked).
     */
    static void checkWiring(String where, Map<String, String> env, Function<String, Map<String, String>> serverEnv,
                            List<String> problems) {
        String bootstrap = env.get("KAFKA_BOOTSTRAP_SERVERS");
        if (bootstrap != null) {
            for (String hostPort : bootstrap.split(",")) {
                String hp = hostPort.strip(), host = hp.replaceAll(":\\d+$", "");
                Map<String, String> kafka = serverEnv.apply(host);
                if (kafka == null) continue;
                String advertised = kafka.getOrDefault("KAFKA_ADVERTISED_LISTENERS", "");
                if (!advertised.contains("://" + hp))
                    problems.add(where + " bootstraps from " + hp + ", which " + host
                            + " does not advertise (KAFKA_ADVERTISED_LISTENERS=" + advertised + ")");
            }
        }
        String url = env.get("JLLM_JDBC_URL");
        if (url != null) {
            Matcher m = Pattern.compile("jdbc:postgresql://([^:/]+)(?::\\d+)?/([^?]+).*").matcher(url);
            if (!m.matches()) {
                problems.add(where + " passes JLLM_JDBC_URL=" + url + ", not a jdbc:postgresql://host[:port]/database URL");
                return;
            }
            String host = m.group(1), db = m.group(2);
            Map<String, String> pg = serverEnv.apply(host);
            if (pg == null) return;
            // the postgres image's defaults: user postgres, database named after the user
            String pgUser = pg.getOrDefault("POSTGRES_USER", "postgres");
            String pgDb = pg.getOrDefault("POSTGRES_DB", pgUser);
            if (!db.equals(pgDb))
                problems.add(where + " connects to database " + db + ", but " + host + " creates " + pgDb);
            if (!pgUser.equals(env.get("JLLM_JDBC_USER")))
                problems.add(where + " logs in as " + env.get("JLLM_JDBC_USER") + ", but " + host + " creates user " + pgUser);
            if (!Objects.equals(pg.get("POSTGRES_PASSWORD"), env.get("JLLM_JDBC_PASSWORD")))
                problems.add(where + " passes a JLLM_JDBC_PASSWORD that differs from " + host + "'s POSTGRES_PASSWORD");
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Dockerfiles

    /** Instructions of a Dockerfile with continuation lines joined and comments dropped: [KEYWORD, arguments]. */
    static List<String[]> instructions(String dockerfile) {
        List<String[]> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String raw : dockerfile.split("\n")) {
            String line = raw.strip();
            if (line.startsWith("#") || (line.isEmpty() && cur.isEmpty())) continue;
            if (line.endsWith("\\")) {
                cur.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            cur.append(line);
            String ins = cur.toString().strip();
            cur.setLength(0);
            if (ins.isEmpty()) continue;
            int sp = ins.indexOf(' ');
            out.add(new String[] {ins.substring(0, sp < 0 ? ins.length() : sp).toUpperCase(), sp < 0 ? "" : ins.substring(sp + 1).strip()});
        }
        return out;
    }

    static List<String> checkDockerfile(String text, ServiceCode code) {
        List<String> problems = new ArrayList<>();
        String where = code.name() + "/Dockerfile";
        List<String[]> ins = instructions(text);
        Map<String, String> env = new LinkedHashMap<>();
        String from = null, user = null, entry = null, health = null;
        List<String> exposed = new ArrayList<>(), copies = new ArrayList<>();
        for (String[] i : ins) {
            switch (i[0]) {
                case "FROM" -> from = i[1];
                case "USER" -> user = i[1];
                case "ENTRYPOINT", "CMD" -> entry = (entry == null ? "" : entry + " ") + i[1];
                case "HEALTHCHECK" -> health = i[1];
                case "EXPOSE" -> exposed.addAll(List.of(i[1].split("\\s+")));
                case "COPY" -> copies.add(i[1]);
                case "ENV" -> {
                    Matcher m = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\\S*)").matcher(i[1]);
                    while (m.find()) env.put(m.group(1), m.group(2).replace("\"", ""));
                }
                default -> { }
            }
        }
        if (from == null || !from.matches("eclipse-temurin:25[-.\\w]*(\\s.*)?"))
            problems.add(where + " is not based on an eclipse-temurin:25 image (FROM " + from + ")");
        if (user == null || user.equals("root") || user.equals("0") || user.startsWith("0:"))
            problems.add(where + " runs as root (no USER, or USER root)");
        for (String var : env.keySet())
            if (!code.reads(var) && !var.equals("JAVA_HOME") && !var.equals("PATH"))
                problems.add(where + " sets ENV " + var + ", which " + code.name() + " does not read");
        int port = code.port(env);
        if (!exposed.contains(String.valueOf(port)))
            problems.add(where + " does not EXPOSE " + port + ", the port " + code.name() + " listens on (EXPOSE " + exposed + ")");
        for (String e : exposed)
            if (!e.replaceAll("/tcp$", "").equals(String.valueOf(port)))
                problems.add(where + " exposes " + e + ", but " + code.name() + " listens on " + port);
        if (health == null) {
            problems.add(where + " has no HEALTHCHECK");
        } else {
            if (!health.contains(READY) && !health.contains(LIVE))
                problems.add(where + " HEALTHCHECK does not call " + READY + " or " + LIVE + ": " + health);
            if (!health.contains(":" + port + "/") && !health.contains("${" + code.portVar() + "}")
                    && !health.contains("$" + code.portVar() + "/"))
                problems.add(where + " HEALTHCHECK does not use port " + port + " (or ${" + code.portVar() + "}): " + health);
        }
        if (entry == null) {
            problems.add(where + " has no ENTRYPOINT or CMD");
        } else {
            for (String flag : List.of("--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "quarkus-run.jar"))
                if (!entry.contains(flag)) problems.add(where + " does not start the JVM with " + flag + ": " + entry);
        }
        if (copies.stream().noneMatch(c -> c.contains("target/quarkus-app")))
            problems.add(where + " does not copy the fast-jar from target/quarkus-app/");
        return problems;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Kubernetes

    static List<String> checkKubernetes(List<Map<String, Object>> docs, Map<String, ServiceCode> code,
                                        List<String> topics, int partitions) {
        List<String> problems = new ArrayList<>();
        Map<String, Map<String, Object>> byKindName = new TreeMap<>();
        Map<String, Map<String, String>> configData = new TreeMap<>(); // "ConfigMap/name" or "Secret/name" -> data
        for (Map<String, Object> d : docs) {
            String kind = String.valueOf(d.get("kind")), name = String.valueOf(map(d.get("metadata")).get("name"));
            if (byKindName.put(kind + "/" + name, d) != null) problems.add("k8s/ defines " + kind + "/" + name + " twice");
            if (kind.equals("ConfigMap") || kind.equals("Secret")) {
                Map<String, String> data = new TreeMap<>();
                map(d.get("data")).forEach((k, v) -> data.put(k, String.valueOf(v)));
                map(d.get("stringData")).forEach((k, v) -> data.put(k, String.valueOf(v)));
                configData.put(kind + "/" + name, data);
            }
        }

        List<TopicCreation> created = new ArrayList<>();
        List<String> creators = new ArrayList<>();
        for (Map<String, Object> d : docs) {
            Map<String, Object> pod = podSpec(d);
            if (pod == null) continue;
            String where = "k8s " + d.get("kind") + "/" + map(d.get("metadata")).get("name");
            if (!Boolean.FALSE.equals(pod.get("enableServiceLinks")))
                problems.add(where + " does not set enableServiceLinks: false (service-link variables such as KAFKA_PORT"
                        + " would reach the container)");
            for (Object o : list(pod.get("containers"))) {
                Map<String, Object> c = map(o);
                List<TopicCreation> t = topicCreations(String.join("\n", strings(c.get("command"))) + "\n"
                        + String.join("\n", strings(c.get("args"))));
                if (!t.isEmpty()) {
                    creators.add(where);
                    created.addAll(t);
                }
                Map<String, Object> resources = map(c.get("resources"));
                if (map(resources.get("requests")).isEmpty() || !map(resources.get("limits")).containsKey("memory"))
                    problems.add(where + " container " + c.get("name") + " lacks resources.requests or limits.memory");
            }
        }
        if (creators.isEmpty()) problems.add("k8s/ has no Job or pod that creates the topics (kafka-topics.sh --create)");
        else checkTopics(String.join(", ", creators), created, topics, partitions, problems);

        for (ServiceCode c : code.values()) {
            Map<String, Object> deployment = byKindName.get("Deployment/" + c.name());
            if (deployment == null) {
                problems.add("k8s/ has no Deployment " + c.name());
                continue;
            }
            String where = "k8s Deployment/" + c.name();
            Map<String, Object> pod = podSpec(deployment);
            List<Object> containers = list(pod.get("containers"));
            if (containers.size() != 1) {
                problems.add(where + " should have exactly one container, has " + containers.size());
                continue;
            }
            Map<String, Object> container = map(containers.getFirst());
            Map<String, String> env = containerEnv(where, container, configData, problems);
            checkEnv(where, c, env, problems);
            checkWiring(where, env, host -> {
                Map<String, Object> server = byKindName.getOrDefault("StatefulSet/" + host, byKindName.get("Deployment/" + host));
                if (server == null || !byKindName.containsKey("Service/" + host)) return null;
                Map<String, Object> first = map(list(podSpec(server).get("containers")).getFirst());
                return containerEnv("k8s " + server.get("kind") + "/" + host, first, configData, new ArrayList<>());
            }, problems);

            int port = c.port(env);
            Map<String, Integer> namedPorts = new TreeMap<>();
            List<Integer> containerPorts = new ArrayList<>();
            for (Object o : list(container.get("ports"))) {
                Map<String, Object> p = map(o);
                int cp = ((Number) p.get("containerPort")).intValue();
                containerPorts.add(cp);
                if (p.get("name") != null) namedPorts.put(String.valueOf(p.get("name")), cp);
            }
            if (!containerPorts.equals(List.of(port)))
                problems.add(where + " declares containerPort " + containerPorts + ", but " + c.name() + " listens on " + port);

            checkProbe(where, "readinessProbe", map(container.get("readinessProbe")), READY, port, namedPorts, true, problems);
            checkProbe(where, "livenessProbe", map(container.get("livenessProbe")), LIVE, port, namedPorts, true, problems);
            checkProbe(where, "startupProbe", map(container.get("startupProbe")), STARTED, port, namedPorts, false, problems);

            // paths it is given (the model) lie on a read-only mount
            List<Object> mounts = list(container.get("volumeMounts"));
            for (Map.Entry<String, String> ev : env.entrySet()) {
                if (!ev.getValue().startsWith("/")) continue;
                Map<String, Object> mount = mounts.stream().map(DeploymentChecks::map)
                        .filter(m -> ev.getValue().startsWith(m.get("mountPath") + "/")).findFirst().orElse(null);
                if (mount == null) problems.add(where + " passes " + ev.getKey() + "=" + ev.getValue() + " but mounts no volume there");
                else if (!Boolean.TRUE.equals(mount.get("readOnly"))) problems.add(where + " mounts " + mount.get("mountPath") + " writable; the model should be read-only");
            }

            Map<String, Object> service = byKindName.get("Service/" + c.name());
            if (service == null) {
                problems.add("k8s/ has no Service " + c.name());
            } else {
                Map<String, Object> spec = map(service.get("spec"));
                Map<String, Object> labels = map(map(map(map(deployment.get("spec")).get("template")).get("metadata")).get("labels"));
                map(spec.get("selector")).forEach((k, v) -> {
                    if (!Objects.equals(labels.get(k), v))
                        problems.add("k8s Service/" + c.name() + " selects " + k + "=" + v + ", which its Deployment's pods do not carry");
                });
                for (Object o : list(spec.get("ports"))) {
                    Map<String, Object> p = map(o);
                    Object target = p.getOrDefault("targetPort", p.get("port"));
                    Integer resolved = target instanceof Number n ? Integer.valueOf(n.intValue()) : namedPorts.get(String.valueOf(target));
                    if (resolved == null || resolved != port)
                        problems.add("k8s Service/" + c.name() + " targets port " + target + ", but " + c.name() + " listens on " + port);
                }
            }
        }
        return problems;
    }

    /** A container's environment, ConfigMap and Secret references resolved to their values in the manifests. */
    static Map<String, String> containerEnv(String where, Map<String, Object> container,
                                            Map<String, Map<String, String>> configData, List<String> problems) {
        Map<String, String> env = new TreeMap<>();
        for (Object o : list(container.get("env"))) {
            Map<String, Object> e = map(o);
            String name = String.valueOf(e.get("name"));
            Map<String, Object> from = map(e.get("valueFrom"));
            String value = e.containsKey("value") ? String.valueOf(e.get("value")) : "";
            for (String ref : List.of("configMapKeyRef", "secretKeyRef")) {
                Map<String, Object> r = map(from.get(ref));
                if (r.isEmpty()) continue;
                String kind = ref.equals("configMapKeyRef") ? "ConfigMap" : "Secret";
                Map<String, String> data = configData.get(kind + "/" + r.get("name"));
                if (data == null) problems.add(where + " reads " + name + " from " + kind + "/" + r.get("name") + ", which k8s/ does not define");
                else if (!data.containsKey(String.valueOf(r.get("key"))))
                    problems.add(where + " reads " + name + " from " + kind + "/" + r.get("name") + " key " + r.get("key") + ", which it lacks");
                else value = data.get(String.valueOf(r.get("key")));
            }
            env.put(name, value);
        }
        for (Object o : list(container.get("envFrom"))) {
            Map<String, Object> e = map(o);
            String key = !map(e.get("configMapRef")).isEmpty() ? "ConfigMap/" + map(e.get("configMapRef")).get("name")
                    : "Secret/" + map(e.get("secretRef")).get("name");
            Map<String, String> data = configData.get(key);
            if (data == null) problems.add(where + " takes envFrom " + key + ", which k8s/ does not define");
            else data.forEach((k, v) -> env.putIfAbsent(Objects.toString(e.getOrDefault("prefix", ""), "") + k, v));
        }
        return env;
    }

    static void checkProbe(String where, String kind, Map<String, Object> probe, String path, int port,
                           Map<String, Integer> namedPorts, boolean required, List<String> problems) {
        if (probe.isEmpty()) {
            if (required) problems.add(where + " has no " + kind);
            return;
        }
        Map<String, Object> get = map(probe.get("httpGet"));
        if (!path.equals(get.get("path")))
            problems.add(where + " " + kind + " calls " + get.get("path") + "; it should call " + path);
        Object p = get.get("port");
        Integer resolved = p instanceof Number n ? Integer.valueOf(n.intValue()) : namedPorts.get(String.valueOf(p));
        if (resolved == null || resolved != port)
            problems.add(where + " " + kind + " uses port " + p + ", but the service listens on " + port);
    }

    static Map<String, Object> podSpec(Map<String, Object> doc) {
        String kind = String.valueOf(doc.get("kind"));
        if (!Set.of("Deployment", "StatefulSet", "Job", "DaemonSet").contains(kind)) return null;
        return map(map(map(doc.get("spec")).get("template")).get("spec"));
    }

    // ---------------------------------------------------------------------------------------------------------
    // YAML tree helpers: absent or mistyped nodes read as empty, so a check reports them instead of crashing

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        return o instanceof List<?> l ? (List<Object>) l : List.of();
    }

    /** A string or a list of strings (compose's command, entrypoint, healthcheck test; YAML lists). */
    static List<String> strings(Object o) {
        if (o == null) return List.of();
        if (o instanceof List<?> l) return l.stream().map(String::valueOf).toList();
        return List.of(String.valueOf(o));
    }
}
