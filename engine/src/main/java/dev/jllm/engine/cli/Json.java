package dev.jllm.engine.cli;

/** Tiny JSON writer for the command line's one-line outputs. */
final class Json {
    private final StringBuilder sb = new StringBuilder("{");

    Json field(String name, String value) {
        key(name);
        quote(sb, value);
        return this;
    }

    Json field(String name, double value) {
        key(name);
        if (Double.isFinite(value)) sb.append(Math.round(value * 1000) / 1000.0);
        else sb.append("null");
        return this;
    }

    Json field(String name, long value) {
        key(name);
        sb.append(value);
        return this;
    }

    Json field(String name, int[] values) {
        key(name);
        sb.append('[');
        for (int i = 0; i < values.length; i++) {
            if (i > 0) sb.append(',');
            sb.append(values[i]);
        }
        sb.append(']');
        return this;
    }

    private void key(String name) {
        if (sb.length() > 1) sb.append(',');
        quote(sb, name);
        sb.append(':');
    }

    static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    @Override
    public String toString() {
        return sb + "}";
    }
}
