package dev.jllm.engine.model.hf;

import dev.jllm.engine.LoadOptions;
import dev.jllm.engine.llama.Transformer;
import dev.jllm.engine.spi.ModelFormat;
import dev.jllm.engine.safetensors.SafetensorsModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A Hugging Face model folder: {@code config.json} beside {@code model.safetensors} or its sharded index. */
public final class HfModelFormat implements ModelFormat {
    @Override
    public boolean accepts(Path path) {
        return Files.isDirectory(path) && Files.isRegularFile(path.resolve(HfConfig.FILE))
                && (Files.isRegularFile(path.resolve(SafetensorsModel.SINGLE_FILE))
                    || Files.isRegularFile(path.resolve(SafetensorsModel.INDEX_FILE)));
    }

    @Override
    public Transformer load(Path path, LoadOptions options) throws IOException {
        return HfModelLoader.load(path, options);
    }
}
