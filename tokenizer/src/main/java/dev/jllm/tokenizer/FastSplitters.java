package dev.jllm.tokenizer;

/**
 * Hand-written equivalents of the two most used pre-tokenizer regexes (GPT-2's and Llama 3's), as
 * llama.cpp has: same matches as {@link java.util.regex.Pattern} with Unicode classes, several times
 * faster. Each appends the end offsets of the pieces of {@code text[start, end)}: matches and the gaps
 * between them. Tested against the regex path on the llama.cpp test texts and on random text.
 */
final class FastSplitters {
    private static final byte L = 1;    // \p{L}
    private static final byte N = 2;    // \p{N}
    private static final byte WS = 4;   // \s with UNICODE_CHARACTER_CLASS: the White_Space property
    private static final byte[] BMP = new byte[0x10000];   // [65536] class bits of each BMP code point

    static {
        for (int cp = 0; cp < 0x10000; cp++) {
            BMP[cp] = classify(cp);
        }
    }

    private FastSplitters() {
    }

    private static byte classify(int cp) {
        if (isWhiteSpace(cp)) {
            return WS;
        }
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> L;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> N;
            default -> 0;
        };
    }

    /** {@code \s} with UNICODE_CHARACTER_CLASS: the White_Space property. */
    static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

    /** Class bits of the code point at i (0 past the end). */
    private static int cls(String s, int i, int end) {
        if (i >= end) {
            return -1;
        }
        char c = s.charAt(i);
        if (!Character.isSurrogate(c)) {
            return BMP[c];
        }
        return classify(s.codePointAt(i));
    }

    /** Chars taken by the code point at i. */
    private static int len(String s, int i, int end) {
        return Character.isHighSurrogate(s.charAt(i)) && i + 1 < end && Character.isLowSurrogate(s.charAt(i + 1)) ? 2 : 1;
    }

    private static int run(String s, int i, int end, int bits) {   // end of the run of code points with class in bits
        while (i < end) {
            int c = cls(s, i, end);
            if ((c & bits) == 0) {
                break;
            }
            i += len(s, i, end);
        }
        return i;
    }

    private static int otherRun(String s, int i, int end) {
        while (i < end && cls(s, i, end) == 0) {
            i += len(s, i, end);
        }
        return i;
    }

    private static int wsRun(String s, int i, int end) {
        while (i < end && cls(s, i, end) == WS) {
            i += len(s, i, end);
        }
        return i;
    }

    /** Start of the last code point before q (q > start). */
    private static int back(String s, int q, int start) {
        return q - 1 > start && Character.isLowSurrogate(s.charAt(q - 1)) && Character.isHighSurrogate(s.charAt(q - 2)) ? q - 2 : q - 1;
    }

    /** {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)} */
    static void gpt2(String s, int start, int end, IntList out) {
        int pos = start;
        while (pos < end) {
            char c = s.charAt(pos);
            if (c == '\'' && pos + 1 < end) {
                char c1 = s.charAt(pos + 1);
                if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
                    out.add(pos += 2);
                    continue;
                }
                if (pos + 2 < end) {
                    char c2 = s.charAt(pos + 2);
                    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
                        out.add(pos += 3);
                        continue;
                    }
                }
            }
            int p1 = c == ' ' ? pos + 1 : pos;
            int k = cls(s, p1, end);
            if (k == L) {
                out.add(pos = run(s, p1, end, L));
                continue;
            }
            if (k == N) {
                out.add(pos = run(s, p1, end, N));
                continue;
            }
            if (k == 0) {
                out.add(pos = otherRun(s, p1, end));
                continue;
            }
            // here the code point at pos is white space
            int q = wsRun(s, pos, end);
            if (q == end) {
                out.add(pos = q);
            } else {
                int last = back(s, q, pos);
                // \s+(?!\S): all but the last white space; a single one before a non-space is a gap piece
                out.add(pos = last > pos ? last : q);
            }
        }
    }

    /** Llama 3's pattern; see {@link PreTokenizer#LLAMA3}. */
    static void llama3(String s, int start, int end, IntList out) {
        int pos = start;
        while (pos < end) {
            char c = s.charAt(pos);
            if (c == '\'' && pos + 1 < end) {   // (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])
                char c1 = Character.toLowerCase(s.charAt(pos + 1));
                if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
                    out.add(pos += 2);
                    continue;
                }
                if (pos + 2 < end) {
                    char c2 = Character.toLowerCase(s.charAt(pos + 2));
                    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
                        out.add(pos += 3);
                        continue;
                    }
                }
            }
            int k = cls(s, pos, end);
            int n0 = len(s, pos, end);
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if (k != L && k != N && c != '\r' && c != '\n' && cls(s, pos + n0, end) == L) {
                out.add(pos = run(s, pos + n0, end, L));
                continue;
            }
            if (k == L) {
                out.add(pos = run(s, pos, end, L));
                continue;
            }
            // \p{N}{1,3}
            if (k == N) {
                int q = pos;
                for (int i = 0; i < 3 && q < end && cls(s, q, end) == N; i++) {
                    q += len(s, q, end);
                }
                out.add(pos = q);
                continue;
            }
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
            int p1 = c == ' ' ? pos + 1 : pos;
            if (cls(s, p1, end) == 0) {
                int q = otherRun(s, p1, end);
                while (q < end && (s.charAt(q) == '\r' || s.charAt(q) == '\n')) {
                    q++;
                }
                out.add(pos = q);
                continue;
            }
            // white space from here on
            int q = wsRun(s, pos, end);
            int lastNewline = -1;   // \s*[\r\n]+
            for (int i = q - 1; i >= pos; i--) {
                char ci = s.charAt(i);
                if (ci == '\r' || ci == '\n') {
                    lastNewline = i;
                    break;
                }
            }
            if (lastNewline >= 0) {
                out.add(pos = lastNewline + 1);
                continue;
            }
            if (q == end) {   // \s+(?!\S)
                out.add(pos = q);
                continue;
            }
            int last = back(s, q, pos);
            out.add(pos = last > pos ? last : q);   // \s+(?!\S), else \s+ (one white space before a non-space)
        }
    }
}
