package dev.jllm.deploy;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What one service's code says about its configuration: the environment variables it reads, those it cannot
 * start without, and its HTTP port. Read from {@code src/main/resources/application.properties}
 * ({@code ${VAR:default}} references; every key there may also be set as an environment variable) and from its
 * {@code @ConfigMapping} interfaces ({@code jllm.x.some-name} is read as {@code JLLM_X_SOME_NAME}), following the
 * MicroProfile Config rule for environment names.
 *
 * @param name              the service (its directory name)
 * @param dir               its directory
 * @param readVars          every environment variable the service reads
 * @param requiredVars      variables without a usable default: a deployment must pass them
 * @param localhostDefaults variables whose default points at localhost, wrong inside a container or pod
 * @param portVar           the variable that sets the HTTP port ({@code quarkus.http.port=${PORT_VAR:default}})
 * @param defaultPort       the port when {@code portVar} is not set
 * @param hostVar           the variable that sets the HTTP listen address, or null
 */
record ServiceCode(String name, Path dir, Set<String> readVars, Set<String> requiredVars,
                   Set<String> localhostDefaults, String portVar, int defaultPort, String hostVar) {

    /** {@code ${VAR}} or {@code ${VAR:default}}; group 2 is null without a colon. */
    private static final Pattern REFERENCE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?}");
    private static final Pattern CONFIG_MAPPING = Pattern.compile("@ConfigMapping\\(\\s*prefix\\s*=\\s*\"([^\"]+)\"");
    /** An interface method without parameters: {@code Type name();}. */
    private static final Pattern ACCESSOR = Pattern.compile("^\\s*([\\w.<>?,\\s\\[\\]]+?)\\s+(\\w+)\\(\\)\\s*;\\s*$");

    /** Environment variables the JVM itself reads (launcher options), allowed for every service. */
    static final Set<String> JVM_VARS = Set.of("JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS");

    /** The port the service listens on given the variables a deployment passes. */
    int port(Map<String, String> env) {
        String v = env.get(portVar);
        if (v == null) return defaultPort;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    boolean reads(String var) {
        return readVars.contains(var) || JVM_VARS.contains(var);
    }

    /** MicroProfile Config: a property name as an environment variable (non-alphanumerics to _, upper case). */
    static String envName(String property) {
        return property.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
    }

    /** camelCase accessor name to the kebab-case property SmallRye derives from it. */
    static String kebab(String method) {
        return method.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    static ServiceCode load(Path dir) {
        Path props = dir.resolve("src/main/resources/application.properties");
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(props)) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + props, e);
        }
        Set<String> read = new TreeSet<>(), required = new TreeSet<>(), localhost = new TreeSet<>();
        for (String key : p.stringPropertyNames()) {
            read.add(envName(key));
            Matcher m = REFERENCE.matcher(p.getProperty(key));
            while (m.find()) {
                String var = m.group(1), def = m.group(2);
                read.add(var);
                if (def == null || def.isBlank()) required.add(var);
                else if (def.contains("localhost") || def.contains("127.0.0.1")) localhost.add(var);
            }
        }
        for (Map.Entry<String, Boolean> e : configMappingProperties(dir).entrySet()) {
            String env = envName(e.getKey());
            read.add(env);
            // a mandatory mapping property that application.properties does not fill must come from the environment
            if (e.getValue() && p.getProperty(e.getKey()) == null) required.add(env);
        }

        String port = p.getProperty("quarkus.http.port");
        if (port == null) throw new IllegalStateException(props + " sets no quarkus.http.port");
        Matcher m = REFERENCE.matcher(port);
        String portVar = null;
        int defaultPort;
        if (m.matches()) {
            portVar = m.group(1);
            defaultPort = Integer.parseInt(m.group(2));
        } else {
            defaultPort = Integer.parseInt(port.trim());
        }
        String hostVar = null;
        String host = p.getProperty("quarkus.http.host");
        if (host != null) {
            Matcher h = REFERENCE.matcher(host);
            if (h.matches()) hostVar = h.group(1);
        }
        return new ServiceCode(dir.getFileName().toString(), dir, read, required, localhost,
                portVar == null ? "QUARKUS_HTTP_PORT" : portVar, defaultPort, hostVar);
    }

    /** Property name -> mandatory (no {@code @WithDefault}, not {@code Optional}) of every {@code @ConfigMapping} method. */
    static Map<String, Boolean> configMappingProperties(Path serviceDir) {
        Map<String, Boolean> out = new TreeMap<>();
        Path src = serviceDir.resolve("src/main/java");
        if (!Files.isDirectory(src)) return out;
        try (Stream<Path> files = Files.walk(src)) {
            for (Path f : files.filter(x -> x.toString().endsWith(".java")).toList()) {
                String text = Files.readString(f);
                Matcher cm = CONFIG_MAPPING.matcher(text);
                if (!cm.find()) continue;
                String prefix = cm.group(1);
                boolean withDefault = false;
                for (String line : text.substring(cm.end()).split("\n")) {
                    if (line.contains("@WithDefault")) withDefault = true;
                    Matcher a = ACCESSOR.matcher(line);
                    if (a.matches()) {
                        boolean optional = a.group(1).trim().startsWith("Optional");
                        out.put(prefix + "." + kebab(a.group(2)), !withDefault && !optional);
                        withDefault = false;
                    } else if (line.contains(";") || line.contains("}")) {
                        withDefault = false;
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** Every service of the repository: a directory with {@code src/main/resources/application.properties}, named *-service. */
    static Map<String, ServiceCode> all(Path repo) {
        Map<String, ServiceCode> out = new TreeMap<>();
        try (Stream<Path> dirs = Files.list(repo)) {
            for (Path d : dirs.filter(Files::isDirectory).sorted().toList()) {
                if (d.getFileName().toString().endsWith("-service")
                        && Files.isRegularFile(d.resolve("src/main/resources/application.properties"))) {
                    ServiceCode c = load(d);
                    out.put(c.name(), c);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
