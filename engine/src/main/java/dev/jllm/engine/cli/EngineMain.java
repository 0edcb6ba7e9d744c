package dev.jllm.engine.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code engine <command> [options]}: the command-line entry point over the engine. Each command is one entry of
 * a small table.
 */
public final class EngineMain {
    /** A subcommand: runs with its arguments, returns the exit code. */
    @FunctionalInterface
    public interface Command {
        int run(List<String> args) throws Exception;
    }

    private record Entry(Command command, String usage) {
    }

    private static final Map<String, Entry> COMMANDS = new LinkedHashMap<>();

    static {
        register("generate", GenerateCommand::run, GenerateCommand.USAGE);
        register("logits", LogitsCommand::run, LogitsCommand.USAGE);
        register("bench", BenchCommand::run, BenchCommand.USAGE);
        register("synth", SynthCommand::run, SynthCommand.USAGE);
    }

    private EngineMain() {
    }

    /** Adds a subcommand (at class initialization). */
    public static void register(String name, Command command, String usage) {
        COMMANDS.put(name, new Entry(command, usage));
    }

    public static void main(String[] args) {
        System.exit(run(args, System.err));
    }

    /** Runs a command line; returns the exit code (0 ok, 1 failure, 2 usage). */
    public static int run(String[] args, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            usage(err);
            return args.length == 0 ? 2 : 0;
        }
        Entry e = COMMANDS.get(args[0]);
        if (e == null) {
            err.println("engine: unknown command '" + args[0] + "'");
            usage(err);
            return 2;
        }
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        if (rest.contains("--help") || rest.contains("-h")) {
            err.println("usage: engine " + args[0] + " " + e.usage());
            return 0;
        }
        try {
            return e.command().run(rest);
        } catch (Args.UsageException ex) {
            err.println("engine " + ex.getMessage());
            err.println("usage: engine " + args[0] + " " + e.usage());
            return 2;
        } catch (Exception ex) {
            err.println("engine " + args[0] + ": " + (ex.getMessage() != null ? ex.getMessage() : ex.toString()));
            if (System.getenv("JLLM_DEBUG") != null) ex.printStackTrace(err);
            return 1;
        }
    }

    private static void usage(PrintStream err) {
        err.println("usage: engine <command> [options]");
        for (var c : COMMANDS.entrySet()) err.println("  " + c.getKey() + " " + c.getValue().usage());
    }
}
