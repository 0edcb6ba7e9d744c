package dev.jllm.tokenizer;

/**
 * GPT-2's byte-to-unicode table: every byte maps to one printable character, so byte-level BPE
 * vocabularies are plain strings. Printable Latin-1 bytes map to themselves, the rest to U+0100 onward.
 */
final class ByteLevel {
    static final char[] BYTE_TO_CHAR = new char[256];   // [256]
    static final int[] CHAR_TO_BYTE = new int[512];     // [512] -1 where not a byte char

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    /** The byte-level string of some UTF-8 bytes. */
    static String encode(byte[] bytes) {
        char[] c = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            c[i] = BYTE_TO_CHAR[bytes[i] & 0xff];
        }
        return new String(c);
    }

    /** The bytes behind a byte-level string; characters outside the table are kept as their UTF-8. */
    static byte[] decode(String s) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b >= 0) {
                out.write(b);
            } else {
                int cp = s.codePointAt(i);
                out.writeBytes(new String(Character.toChars(cp)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                i += Character.charCount(cp) - 1;
            }
        }
        return out.toByteArray();
    }
}
