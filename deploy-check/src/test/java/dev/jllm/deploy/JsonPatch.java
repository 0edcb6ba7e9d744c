package dev.jllm.deploy;

import java.util.List;
import java.util.Map;

/** The "add" operation of RFC 6902 JSON Patch on a parsed YAML tree: enough to check kustomize patches. */
final class JsonPatch {
    private JsonPatch() {}

    @SuppressWarnings("unchecked")
    static void apply(Map<String, Object> doc, Map<String, Object> op) {
        if (!"add".equals(op.get("op"))) throw new AssertionError("only op: add is supported here, got " + op);
        String path = String.valueOf(op.get("path"));
        String[] tokens = path.substring(1).split("/");
        Object node = doc;
        for (int i = 0; i < tokens.length - 1; i++) {
            String t = unescape(tokens[i]);
            node = node instanceof List<?> l ? l.get(Integer.parseInt(t)) : ((Map<String, Object>) node).get(t);
            if (node == null) throw new AssertionError("patch path " + path + ": nothing at " + t);
        }
        String last = unescape(tokens[tokens.length - 1]);
        if (node instanceof List<?> l) {
            List<Object> list = (List<Object>) l;
            if (last.equals("-")) list.add(op.get("value"));
            else list.add(Integer.parseInt(last), op.get("value"));
        } else {
            ((Map<String, Object>) node).put(last, op.get("value"));
        }
    }

    /** RFC 6901: ~1 is '/', ~0 is '~'. */
    static String unescape(String token) {
        return token.replace("~1", "/").replace("~0", "~");
    }
}
