package dev.jllm.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Locates ../shared (the project's reference data) and reads llama.cpp's .inp / .out test files. */
final class SharedData {
    static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    private SharedData() {
    }

    static Path dir() {
        return Path.of(System.getProperty("jllm.shared.dir", "../shared")).toAbsolutePath().normalize();
    }

    static Path tokenizerTests() {
        return dir().resolve("tokenizer-tests");
    }

    static Path models() {
        return dir().resolve("models");
    }

    /** Test texts of a .inp file. */
    static List<String> readInputs(Path inp) {
        String all = read(inp);
        List<String> out = new ArrayList<>();
        int start = 0;
        while (true) {
            int i = all.indexOf(SEPARATOR, start);
            if (i < 0) {
                out.add(all.substring(start));
                break;
            }
            out.add(all.substring(start, i));
            start = i + SEPARATOR.length();
        }
        // llama.cpp's writer ends the file with a separator line: the text after it is not a test
        if (!out.isEmpty() && out.getLast().isEmpty() && all.endsWith(SEPARATOR)) {
            out.removeLast();
        }
        return out;
    }

    /** Expected ids of a .out file: one line per text, ids separated by spaces. */
    static List<int[]> readOutputs(Path out) {
        String all = read(out);
        String[] lines = all.split("\n", -1);
        List<int[]> ids = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            if (i == lines.length - 1 && lines[i].isEmpty()) {
                break;
            }
            String l = lines[i].trim();
            ids.add(l.isEmpty() ? new int[0] : java.util.Arrays.stream(l.split(" +")).mapToInt(Integer::parseInt).toArray());
        }
        return ids;
    }

    static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
