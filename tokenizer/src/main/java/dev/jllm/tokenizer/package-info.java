/**
 * Tokenizers for the jllm engine and services (no Quarkus, no Kafka).
 *
 * <pre>{@code
 * Tokenizer t = Tokenizers.fromGguf(path);                  // or fromGguf(GgufFile), fromHuggingFace(dir)
 * int[] ids = t.encode(text, true, false);                  // add BOS/EOS per the model; no special-token parsing
 * String s = t.decode(ids, true);                           // skip special tokens
 * StreamingDecoder d = t.newStreamingDecoder(List.of("User:"));
 * StreamingDecoder.Delta delta = d.accept(id);              // text to send now; delta.stopped() on a stop string
 * String rest = d.finish();
 * ChatTemplate tpl = ChatTemplates.forModel(t, Optional.empty());   // model's template, else built-in family
 * String prompt = tpl.render(List.of(new ChatMessage("user", "Hi")), true);
 * }</pre>
 *
 * <p>Models: {@code llama} (SentencePiece BPE: {@link dev.jllm.tokenizer.SpmModel}), {@code gpt2}
 * (byte-level BPE with the {@code tokenizer.ggml.pre} pre-tokenizer: {@link dev.jllm.tokenizer.BpeModel},
 * {@link dev.jllm.tokenizer.PreTokenizer}), {@code bert} (WordPiece), and HF {@code tokenizer.json} BPE
 * (byte-level, or character-level with a {@code ▁} normalizer and byte fallback).
 *
 * <p>Benchmark (encode MB/s on one thread, SPM and byte-level BPE, 1 MB English + code + CJK):
 * <pre>
 * ./mvnw -B -q -o -pl tokenizer compile dependency:build-classpath -Dmdep.outputFile=/tmp/tok.cp -Djllm.target=target-tok
 * $JAVA_HOME/bin/java -cp tokenizer/target-tok/classes:$(cat /tmp/tok.cp) dev.jllm.tokenizer.bench.EncodeBench ../shared [runs] [bpe-vocab]
 * </pre>
 */
package dev.jllm.tokenizer;
