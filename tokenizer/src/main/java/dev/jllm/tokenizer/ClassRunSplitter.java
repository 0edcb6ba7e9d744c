package dev.jllm.tokenizer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A split stage for the simple pre-tokenizer regexes, {@code P?C} or {@code P?C+} where C is one
 * character class ({@code [...]} or {@code \p{..}}) and P is {@code \s} or a space: most stages of
 * deepseek, falcon, starcoder, bloom and the "default" list. java.util.regex tests a big class such as
 * deepseek's letter list range by range for every character; here the class is a bit table over the
 * BMP, filled once by asking the regex itself about each code point (code points above the BMP ask
 * the regex when met), so the matches are the regex's. Tested against the regex stage.
 */
final class ClassRunSplitter {
    /** {@code (\s?| ?)?([...]|\p{..})(\+)?} */
    private static final Pattern FORM = Pattern.compile("^(\\\\s\\?| \\?)?(\\[[^\\[\\]]*\\]|\\\\p\\{\\w+\\})(\\+)?$");
    private static final Map<String, ClassRunSplitter> BUILT = new ConcurrentHashMap<>();

    private final Pattern cls;           // the character class alone
    private final long[] bmp = new long[1 << 10];   // [65536 bits] BMP code points in the class
    private final int prefix;            // 0: none, 1: \s?, 2: ' '?
    private final boolean run;           // C+ (else one C)

    private ClassRunSplitter(Matcher form) {
        String p = form.group(1);
        prefix = p == null ? 0 : p.startsWith("\\s") ? 1 : 2;
        run = form.group(3) != null;
        cls = Pattern.compile(form.group(2), Pattern.UNICODE_CHARACTER_CLASS);
        Matcher m = cls.matcher("");
        char[] one = new char[1];
        for (int c = 0; c < 0x10000; c++) {
            one[0] = (char) c;
            if (m.reset(new String(one)).matches()) {
                bmp[c >>> 6] |= 1L << c;
            }
        }
    }

    /** The splitter for this regex, or null when the regex is not of the simple form. */
    static ClassRunSplitter of(String regex) {
        Matcher form = FORM.matcher(regex);
        if (!form.matches()) {
            return null;
        }
        return BUILT.computeIfAbsent(regex, r -> new ClassRunSplitter(form));
    }

    private boolean in(String s, int i, int cl) {
        if (cl == 1) {
            char c = s.charAt(i);
            return (bmp[c >>> 6] & (1L << c)) != 0;
        }
        return cls.matcher(s.substring(i, i + cl)).matches();
    }

    private boolean isPrefix(String s, int i, int cl) {
        if (prefix == 2) {
            return s.charAt(i) == ' ';
        }
        return cl == 1 && FastSplitters.isWhiteSpace(s.charAt(i));   // White_Space has no code point above the BMP
    }

    private static int len(String s, int i, int end) {
        return Character.isHighSurrogate(s.charAt(i)) && i + 1 < end && Character.isLowSurrogate(s.charAt(i + 1)) ? 2 : 1;
    }

    /** Appends the piece ends of text[start, end): matches and the gaps between them, as the regex stage. */
    void split(String s, int start, int end, IntList out) {
        int gap = start;
        int pos = start;
        while (pos < end) {
            int cl = len(s, pos, end);
            int from;   // start of the class characters of a match at pos
            if (prefix != 0 && pos + cl < end && isPrefix(s, pos, cl) && in(s, pos + cl, len(s, pos + cl, end))) {
                from = pos + cl;
            } else if (in(s, pos, cl)) {
                from = pos;
            } else {
                pos += cl;
                continue;
            }
            int q = from + len(s, from, end);
            while (run && q < end && in(s, q, len(s, q, end))) {
                q += len(s, q, end);
            }
            if (gap < pos) {
                out.add(pos);
            }
            out.add(q);
            pos = gap = q;
        }
        if (gap < end) {
            out.add(end);
        }
    }
}
