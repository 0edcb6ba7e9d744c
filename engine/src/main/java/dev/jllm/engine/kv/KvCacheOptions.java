package dev.jllm.engine.kv;

/**
 * How to build a sequence's KV cache.
 *
 * @param type       storage type
 * @param maxContext longest sequence the cache accepts; 0 for the model's context length
 */
public record KvCacheOptions(KvType type, int maxContext) {
    public static final KvCacheOptions DEFAULT = new KvCacheOptions(KvType.F32, 0);

    public KvCacheOptions {
        java.util.Objects.requireNonNull(type, "type");
        if (maxContext < 0) throw new IllegalArgumentException("maxContext must be >= 0, got " + maxContext);
    }

    public static KvCacheOptions of(KvType type) {
        return new KvCacheOptions(type, 0);
    }

    public KvCacheOptions withMaxContext(int n) {
        return new KvCacheOptions(type, n);
    }
}
