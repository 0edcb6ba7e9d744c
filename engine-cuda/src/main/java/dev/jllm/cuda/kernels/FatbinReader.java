package dev.jllm.cuda.kernels;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the container nvcc writes with {@code -fatbin}: a header (magic {@code 0xBA55ED50}, version,
 * header size, payload size) followed by entries, each a header (kind 1 = PTX, 2 = ELF/SASS; header
 * size; payload size; compressed size; target architecture) and its payload. For ELF entries it lists
 * the global function symbols; for PTX entries the {@code .entry} names and their parameter types.
 * Enough to check what a build produced without the CUDA toolkit; compressed entries are reported as
 * such and not opened (the build uses {@code --compress-mode=none}).
 */
public final class FatbinReader {
    public static final int MAGIC = 0xBA55ED50;
    public static final int KIND_PTX = 1;
    public static final int KIND_ELF = 2;

    /** One image in the container. */
    public record Entry(int kind, int arch, boolean compressed, byte[] payload) {
        public String describe() {
            return (kind == KIND_PTX ? "PTX compute_" : kind == KIND_ELF ? "SASS sm_" : "kind " + kind + " arch ") + arch
                    + (compressed ? " (compressed)" : "");
        }
    }

    private FatbinReader() {
    }

    /** The entries of a fatbin; throws naming the problem when {@code bytes} is not one. */
    public static List<Entry> entries(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 16 || b.getInt(0) != MAGIC) throw new IllegalArgumentException("not a fatbin: bad magic");
        int headerSize = Short.toUnsignedInt(b.getShort(6));
        long size = b.getLong(8);
        if (headerSize + size > bytes.length) throw new IllegalArgumentException("fatbin truncated: " + bytes.length + " < " + (headerSize + size));
        List<Entry> out = new ArrayList<>();
        long off = headerSize, end = headerSize + size;
        while (off + 0x30 <= end) {
            int o = (int) off;
            int kind = Short.toUnsignedInt(b.getShort(o));
            int entryHeader = b.getInt(o + 4);
            long payloadSize = b.getLong(o + 8);
            int compressedSize = b.getInt(o + 16);
            int arch = b.getInt(o + 28);
            long flags = b.getLong(o + 40);
            if (entryHeader < 0x30 || off + entryHeader + payloadSize > end) {
                throw new IllegalArgumentException("fatbin entry at " + off + " overruns the container");
            }
            boolean compressed = compressedSize != 0 || (flags & 0x2000) != 0;
            byte[] payload = new byte[(int) payloadSize];
            System.arraycopy(bytes, o + entryHeader, payload, 0, payload.length);
            out.add(new Entry(kind, arch, compressed, payload));
            off += entryHeader + payloadSize;
        }
        return out;
    }

    /** Global FUNC symbols of an ELF64 little-endian image (the kernels of a cubin). */
    public static Set<String> elfFunctionSymbols(byte[] elf) {
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        if (elf.length < 64 || b.getInt(0) != 0x464C457F || elf[4] != 2 || elf[5] != 1) {
            throw new IllegalArgumentException("not a 64-bit little-endian ELF image");
        }
        long shoff = b.getLong(0x28);
        int shentsize = Short.toUnsignedInt(b.getShort(0x3A));
        int shnum = Short.toUnsignedInt(b.getShort(0x3C));
        Set<String> names = new TreeSet<>();
        for (int i = 0; i < shnum; i++) {
            int sh = (int) (shoff + (long) i * shentsize);
            int type = b.getInt(sh + 4);
            if (type != 2) continue;  // SHT_SYMTAB
            long symOff = b.getLong(sh + 0x18), symSize = b.getLong(sh + 0x20), entSize = b.getLong(sh + 0x38);
            int link = b.getInt(sh + 0x28);
            int strSh = (int) (shoff + (long) link * shentsize);
            long strOff = b.getLong(strSh + 0x18);
            for (long s = symOff; s + entSize <= symOff + symSize; s += entSize) {
                int nameIdx = b.getInt((int) s);
                int info = elf[(int) s + 4] & 0xFF;
                int bind = info >> 4, symType = info & 0xF;
                if (symType == 2 && bind == 1) names.add(cString(elf, (int) (strOff + nameIdx)));  // STT_FUNC, STB_GLOBAL
            }
        }
        return names;
    }

    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+([A-Za-z_][A-Za-z0-9_]*)\\s*\\(([^)]*)\\)");
    private static final Pattern PARAM = Pattern.compile("\\.param\\s+\\.(\\w+)");

    /** {@code .entry} name to its parameter types ({@code u64}, {@code u32}, {@code f32}, ...) in a PTX text. */
    public static Map<String, List<String>> ptxEntries(byte[] ptx) {
        String text = new String(ptx, StandardCharsets.ISO_8859_1);
        Map<String, List<String>> out = new LinkedHashMap<>();
        Matcher m = ENTRY.matcher(text);
        while (m.find()) {
            List<String> types = new ArrayList<>();
            Matcher p = PARAM.matcher(m.group(2));
            while (p.find()) types.add(p.group(1));
            out.put(m.group(1), types);
        }
        return out;
    }

    private static String cString(byte[] bytes, int at) {
        int end = at;
        while (end < bytes.length && bytes[end] != 0) end++;
        return new String(bytes, at, end - at, StandardCharsets.US_ASCII);
    }
}
