package dev.jllm.engine.cli;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code --name value} and {@code --flag} options of one subcommand; unknown options are an error. */
public final class Args {
    private final String command;
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> flags = new HashSet<>();

    /**
     * @param valued names taking a value; {@code booleans} names that are bare flags
     */
    public Args(String command, List<String> args, Set<String> valued, Set<String> booleans) {
        this.command = command;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("--")) throw new UsageException(command + ": unexpected argument '" + a + "'");
            String name = a.substring(2);
            String inline = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                inline = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (booleans.contains(name) && inline == null) {
                flags.add(name);
            } else if (valued.contains(name)) {
                if (inline == null) {
                    if (i + 1 >= args.size()) throw new UsageException(command + ": --" + name + " needs a value");
                    inline = args.get(++i);
                }
                values.put(name, inline);
            } else {
                throw new UsageException(command + ": unknown option --" + name);
            }
        }
    }

    public boolean has(String name) {
        return values.containsKey(name) || flags.contains(name);
    }

    public boolean flag(String name) {
        return flags.contains(name);
    }

    public String require(String name) {
        String v = values.get(name);
        if (v == null) throw new UsageException(command + ": --" + name + " is required");
        return v;
    }

    public String get(String name, String def) {
        return values.getOrDefault(name, def);
    }

    public int getInt(String name, int def) {
        String v = values.get(name);
        if (v == null) return def;
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": --" + name + " must be an integer, got '" + v + "'");
        }
    }

    public long getLong(String name, long def) {
        String v = values.get(name);
        if (v == null) return def;
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": --" + name + " must be an integer, got '" + v + "'");
        }
    }

    public float getFloat(String name, float def) {
        String v = values.get(name);
        if (v == null) return def;
        try {
            return Float.parseFloat(v);
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": --" + name + " must be a number, got '" + v + "'");
        }
    }

    /** A comma-separated list of token ids. */
    public int[] ids(String name) {
        String v = require(name);
        String[] parts = v.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new UsageException(command + ": --" + name + " must be comma-separated token ids, got '" + parts[i] + "'");
            }
        }
        return out;
    }

    /** A command-line mistake: printed without a stack trace, exit code 2. */
    public static final class UsageException extends RuntimeException {
        public UsageException(String message) {
            super(message);
        }
    }
}
