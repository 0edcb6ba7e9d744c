package dev.jllm.engine.llama;

import dev.jllm.engine.kv.KvCache;

import java.util.List;

/**
 * The tokens of one forward pass: {@code n} tokens of several sequences packed back to back. Segment
 * {@code s} holds tokens {@code [start, start + length)} of the pass, at positions {@code pos0 ..} of its own
 * KV cache. Attention is block-diagonal: a token sees its own segment's earlier tokens and its cache only.
 */
public final class Batch {
    /** One sequence's run of tokens in the pass. */
    public record Segment(KvCache cache, int start, int length, int pos0) {
        /** Position of the segment's last token + 1. */
        public int end() {
            return pos0 + length;
        }
    }

    private final List<Segment> segments;
    private final int[] tokens;     // [n]
    private final int[] positions;  // [n]
    private final int[] segmentOf;  // [n]

    public Batch(List<Segment> segments, int[] tokens) {
        this.segments = List.copyOf(segments);
        this.tokens = tokens.clone();
        int n = tokens.length;
        this.positions = new int[n];
        this.segmentOf = new int[n];
        int t = 0;
        for (int s = 0; s < this.segments.size(); s++) {
            Segment seg = this.segments.get(s);
            if (seg.start != t) throw new IllegalArgumentException("segments must be packed in order");
            for (int i = 0; i < seg.length; i++, t++) {
                positions[t] = seg.pos0 + i;
                segmentOf[t] = s;
            }
        }
        if (t != n) throw new IllegalArgumentException("segments cover " + t + " of " + n + " tokens");
    }

    /** Tokens in the pass. */
    public int size() {
        return tokens.length;
    }

    public int token(int t) {
        return tokens[t];
    }

    /** Absolute position of token {@code t} in its sequence (what RoPE sees). */
    public int position(int t) {
        return positions[t];
    }

    public Segment segmentOfToken(int t) {
        return segments.get(segmentOf[t]);
    }

    public List<Segment> segments() {
        return segments;
    }

    /** The largest position + 1 of any token (bounds attention spans). */
    public int maxEnd() {
        int m = 0;
        for (Segment s : segments) m = Math.max(m, s.end());
        return m;
    }
}
