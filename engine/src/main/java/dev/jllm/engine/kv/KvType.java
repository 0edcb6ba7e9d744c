package dev.jllm.engine.kv;

/** Element type of a KV cache's storage. */
public enum KvType {
    /** 4 bytes per value; exact. */
    F32,
    /** 2 bytes per value (IEEE half); moves logits by up to ~0.02 on small models. */
    F16
}
