package dev.jllm.tokenizer;

/**
 * One tokenization algorithm (SentencePiece BPE, byte-level BPE, WordPiece) over a {@link Vocabulary}.
 * The {@link Tokenizer} facade cuts special tokens out first and hands each stretch of plain text here.
 */
interface TokenizerModel {

    /**
     * Appends the ids of one fragment of plain text (it holds no special token).
     *
     * @param atTextStart  the fragment begins the caller's text
     * @param afterSpecial the fragment begins the text or follows a special token
     */
    void encode(String fragment, boolean atTextStart, boolean afterSpecial, IntList out);

    /** UTF-8 bytes a normal, byte or user-defined token adds to the text. */
    byte[] decodeBytes(int id);

    /** Whether decoding drops one leading space of the text (SentencePiece's space prefix). */
    boolean stripsLeadingSpace();
}
