package dev.jllm.contracts;

import java.util.List;

/** Log-probability of the chosen token and, if asked, of the most likely alternatives. */
public record TokenLogprob(String token, int tokenId, double logprob, List<Alternative> top) {
    public record Alternative(String token, int tokenId, double logprob) {}
}
