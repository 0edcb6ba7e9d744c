package dev.jllm.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Turns generated ids into text deltas for streaming. Not thread-safe: one per generation.
 *
 * <ul>
 * <li>Bytes of a UTF-8 character split over several tokens (byte-fallback and byte-level tokens) are
 * held until the character is complete, so no delta ends inside a character.</li>
 * <li>Stop strings are matched on the text, also across token boundaries: text that could be the start
 * of a stop string is held back, and the stop string itself is never emitted.</li>
 * <li>The concatenated deltas plus {@link #finish()} equal {@link Tokenizer#decode} of the same ids
 * (when no stop string fires).</li>
 * </ul>
 */
public final class StreamingDecoder {

    /** Text to send for one token; {@code stopped}: a stop string was found, generation should end. */
    public record Delta(String text, boolean stopped) {
    }

    private final Tokenizer tokenizer;
    private final List<String> stops;
    private final boolean skipSpecial;
    private byte[] pending = new byte[16];   // bytes of an incomplete UTF-8 character
    private int pendingLength;
    private final StringBuilder held = new StringBuilder();   // decoded text not yet sent
    private boolean atStart = true;
    private boolean stopped;
    private String stopMatched;

    StreamingDecoder(Tokenizer tokenizer, List<String> stopStrings, boolean skipSpecial) {
        this.tokenizer = tokenizer;
        this.stops = stopStrings == null ? List.of() : stopStrings.stream().filter(s -> s != null && !s.isEmpty()).toList();
        this.skipSpecial = skipSpecial;
    }

    /** Feeds one generated id; returns the text that can be sent now. */
    public Delta accept(int id) {
        if (stopped) {
            return new Delta("", true);
        }
        byte[] b = tokenizer.tokenBytes(id, skipSpecial, atStart);
        atStart &= tokenizer.skipped(id, skipSpecial);
        if (b.length == 0) {
            return new Delta("", false);
        }
        if (pendingLength + b.length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + b.length));
        }
        System.arraycopy(b, 0, pending, pendingLength, b.length);
        pendingLength += b.length;
        int complete = completeLength(pending, pendingLength);
        if (complete > 0) {
            held.append(new String(pending, 0, complete, StandardCharsets.UTF_8));
            System.arraycopy(pending, complete, pending, 0, pendingLength - complete);
            pendingLength -= complete;
        }
        return release(false);
    }

    /** End of generation: the rest of the text (an unfinished character becomes U+FFFD). */
    public String finish() {
        if (stopped) {
            return "";
        }
        if (pendingLength > 0) {
            held.append(new String(pending, 0, pendingLength, StandardCharsets.UTF_8));
            pendingLength = 0;
        }
        return release(true).text();
    }

    public boolean stopped() {
        return stopped;
    }

    /** The stop string that ended generation, or null. */
    public String stopMatched() {
        return stopMatched;
    }

    private Delta release(boolean last) {
        int cut = -1;
        for (String s : stops) {
            int i = held.indexOf(s);
            if (i >= 0 && (cut < 0 || i < cut)) {
                cut = i;
                stopMatched = s;
            }
        }
        if (cut >= 0) {
            String out = held.substring(0, cut);
            held.setLength(0);
            stopped = true;
            return new Delta(out, true);
        }
        int keep = last ? 0 : longestStopPrefixSuffix();
        String out = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return new Delta(out, false);
    }

    /** Length of the longest end of the held text that is a proper prefix of a stop string. */
    private int longestStopPrefixSuffix() {
        int best = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, held.length()); k > best; k--) {
                if (endsWith(held, s, k)) {
                    best = k;
                    break;
                }
            }
        }
        return best;
    }

    private static boolean endsWith(StringBuilder text, String s, int k) {
        int off = text.length() - k;
        for (int i = 0; i < k; i++) {
            if (text.charAt(off + i) != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Length of the prefix of {@code b[0, n)} that ends on a character boundary: everything but a
     * trailing, still valid, unfinished UTF-8 sequence.
     */
    static int completeLength(byte[] b, int n) {
        int lead = n - 1;
        while (lead >= 0 && n - lead < 4 && (b[lead] & 0xC0) == 0x80) {
            lead--;
        }
        if (lead < 0) {
            return n;
        }
        int c = b[lead] & 0xff;
        int need = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 1;
        int have = n - lead;
        if (have >= need) {
            return n;
        }
        if (have >= 2) {   // the second byte's range depends on the lead (no overlongs, no surrogates)
            int c2 = b[lead + 1] & 0xff;
            boolean ok = switch (c) {
                case 0xE0 -> c2 >= 0xA0;
                case 0xED -> c2 <= 0x9F;
                case 0xF0 -> c2 >= 0x90;
                case 0xF4 -> c2 <= 0x8F;
                default -> true;
            };
            if (!ok) {
                return n;
            }
        }
        return lead;
    }
}
