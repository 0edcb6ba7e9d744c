package dev.jllm.cuda.kernels;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fatbin the build made holds SASS for sm_80 and sm_90 and PTX for compute_90, each with every kernel
 * of the {@link Kernel} registry, with the registry's parameter list, and no unregistered kernel. Where
 * nvcc exists (CI, this machine: {@code jllm.cuda.require.fatbin=true}) a missing fatbin fails.
 */
class FatbinTest {
    private static byte[] fatbin;

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = FatbinTest.class.getResourceAsStream(Kernel.FATBIN_RESOURCE)) {
            if (in == null) {
                if (Boolean.getBoolean("jllm.cuda.require.fatbin")) {
                    throw new AssertionError("nvcc is installed but " + Kernel.FATBIN_RESOURCE + " was not built");
                }
                return;
            }
            fatbin = in.readAllBytes();
        }
    }

    private static void assumeBuilt() {
        assumeTrue(fatbin != null, "fatbin not built (no nvcc at build time)");
    }

    @Test
    void holdsSassForSm80AndSm90AndPtxForCompute90() {
        assumeBuilt();
        List<FatbinReader.Entry> entries = FatbinReader.entries(fatbin);
        Set<String> kinds = entries.stream().map(FatbinReader.Entry::describe).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(Set.of("SASS sm_80", "SASS sm_90", "PTX compute_90")), kinds);
    }

    @Test
    void everyElfImageHasExactlyTheRegisteredKernels() {
        assumeBuilt();
        Set<String> registered = new TreeSet<>();
        for (Kernel k : Kernel.values()) registered.add(k.symbol);
        int images = 0;
        for (FatbinReader.Entry e : FatbinReader.entries(fatbin)) {
            if (e.kind() != FatbinReader.KIND_ELF) continue;
            images++;
            Set<String> jllm = FatbinReader.elfFunctionSymbols(e.payload()).stream()
                    .filter(s -> s.startsWith("jllm_")).collect(Collectors.toCollection(TreeSet::new));
            assertEquals(registered, jllm, e.describe());
        }
        assertEquals(2, images);
    }

    @Test
    void ptxEntriesHaveTheRegisteredParameterTypes() {
        assumeBuilt();
        FatbinReader.Entry ptx = FatbinReader.entries(fatbin).stream()
                .filter(e -> e.kind() == FatbinReader.KIND_PTX).findFirst().orElseThrow();
        Map<String, List<String>> entries = FatbinReader.ptxEntries(ptx.payload());
        assertEquals(Kernel.values().length, entries.keySet().stream().filter(n -> n.startsWith("jllm_")).count());
        for (Kernel k : Kernel.values()) {
            List<String> types = entries.get(k.symbol);
            assertNotNull(types, k.symbol + " missing from the PTX");
            List<String> expected = k.params.stream().map(p -> switch (p) {
                case PTR, I64 -> "u64";
                case I32 -> "u32";
                case F32 -> "f32";
            }).toList();
            assertEquals(expected, types, k.symbol);
        }
    }

    /** The registry and the sources agree: each symbol is defined in the file the registry names. */
    @Test
    void everyKernelIsDefinedInItsSourceFile() throws IOException {
        Path src = Files.isDirectory(Path.of("src/main/cuda")) ? Path.of("src/main/cuda") : Path.of("engine-cuda/src/main/cuda");
        assumeTrue(Files.isDirectory(src), "sources not found from " + Path.of("").toAbsolutePath());
        Pattern direct = Pattern.compile("extern \"C\" __global__ void(?: __launch_bounds__\\(\\d+\\))? (jllm_\\w+)\\(");
        Pattern viaMacro = Pattern.compile("JLLM_DEFINE_(?:MOE_)?MATVEC(?:_BATCH_STAGED|_BATCH|_STAGED|_MULTI)?\\((jllm_\\w+),");
        for (Kernel k : Kernel.values()) {
            String text = Files.readString(src.resolve(k.sourceFile));
            Set<String> defined = new TreeSet<>();
            for (Pattern p : List.of(direct, viaMacro)) {
                Matcher m = p.matcher(text);
                while (m.find()) defined.add(m.group(1));
            }
            assertTrue(defined.contains(k.symbol), k.symbol + " not defined in " + k.sourceFile + " (found " + defined + ")");
            assertTrue(Files.readString(src.resolve("all_kernels.cu")).contains("#include \"" + k.sourceFile + "\""),
                    k.sourceFile + " not in all_kernels.cu");
        }
    }

    @Test
    void readerRejectsWhatIsNotAFatbin() {
        assertThrows(IllegalArgumentException.class, () -> FatbinReader.entries(new byte[64]));
        assertThrows(IllegalArgumentException.class, () -> FatbinReader.elfFunctionSymbols(new byte[64]));
        assertFalse(FatbinReader.ptxEntries(".entry foo(\n.param .u64 foo_param_0\n)".getBytes()).isEmpty());
    }
}
