package dev.jllm.session.service;

import dev.jllm.contracts.ChatMessage;

import java.util.ArrayList;
import java.util.List;

/**
 * The one rule that decides what a chat turn of a session means, given the conversation stored after the
 * previous turn:
 * <ol>
 *   <li>the request's messages start with the stored ones (or nothing is stored): the client sent the whole
 *       history; it is used as given;</li>
 *   <li>else, the request holds no {@code assistant} message: the client sent only the new messages; the
 *       conversation is the stored one followed by them;</li>
 *   <li>else the client rewrote the history (edited or dropped turns): it is used as given, and replaces the
 *       stored conversation once the turn is done.</li>
 * </ol>
 * Messages are equal when role and content are equal, character for character.
 */
public final class Conversations {
    private Conversations() {}

    public enum Mode {
        FULL_HISTORY("full_history"), NEW_MESSAGES("new_messages"), REWRITTEN("rewritten");

        public final String wire;

        Mode(String wire) {
            this.wire = wire;
        }
    }

    /** The conversation a turn continues, and how it was read. */
    public record Resolution(Mode mode, List<ChatMessage> messages) {}

    public static Resolution resolve(List<ChatMessage> stored, List<ChatMessage> request) {
        if (startsWith(request, stored)) return new Resolution(Mode.FULL_HISTORY, request);
        if (request.stream().noneMatch(m -> "assistant".equals(m.role()))) {
            List<ChatMessage> all = new ArrayList<>(stored.size() + request.size());
            all.addAll(stored);
            all.addAll(request);
            return new Resolution(Mode.NEW_MESSAGES, all);
        }
        return new Resolution(Mode.REWRITTEN, request);
    }

    /** The conversation after a turn: what the turn continued, then the model's reply. */
    public static List<ChatMessage> afterTurn(List<ChatMessage> stored, List<ChatMessage> request, String reply) {
        List<ChatMessage> all = new ArrayList<>(resolve(stored, request).messages());
        all.add(new ChatMessage("assistant", reply));
        return all;
    }

    private static boolean startsWith(List<ChatMessage> list, List<ChatMessage> prefix) {
        return list.size() >= prefix.size() && list.subList(0, prefix.size()).equals(prefix);
    }
}
