package dev.jllm.session;

import dev.jllm.contracts.ChatMessage;
import dev.jllm.session.service.Conversations;
import dev.jllm.session.service.Conversations.Mode;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The rule that reads a follow-up turn as the whole history, only the new messages, or a rewritten history. */
class ConversationsTest {
    static final ChatMessage SYS = new ChatMessage("system", "Be brief.");
    static final ChatMessage U1 = new ChatMessage("user", "Hi");
    static final ChatMessage A1 = new ChatMessage("assistant", "Hello!");
    static final ChatMessage U2 = new ChatMessage("user", "And then?");
    static final List<ChatMessage> STORED = List.of(SYS, U1, A1);

    @Test
    void nothingStoredMeansTheRequestIsTheWholeConversation() {
        var r = Conversations.resolve(List.of(), List.of(SYS, U1));
        assertEquals(Mode.FULL_HISTORY, r.mode());
        assertEquals(List.of(SYS, U1), r.messages());
    }

    @Test
    void aRequestThatStartsWithTheStoredConversationIsTheWholeHistory() {
        var r = Conversations.resolve(STORED, List.of(SYS, U1, A1, U2));
        assertEquals(Mode.FULL_HISTORY, r.mode());
        assertEquals(List.of(SYS, U1, A1, U2), r.messages());
    }

    @Test
    void newMessagesWithoutAnAssistantTurnAreAppended() {
        var r = Conversations.resolve(STORED, List.of(U2));
        assertEquals(Mode.NEW_MESSAGES, r.mode());
        assertEquals(List.of(SYS, U1, A1, U2), r.messages());
        // a new system message among the new ones is appended too: the client said so
        ChatMessage sys2 = new ChatMessage("system", "Now be verbose.");
        assertEquals(List.of(SYS, U1, A1, sys2, U2), Conversations.resolve(STORED, List.of(sys2, U2)).messages());
    }

    @Test
    void anEditedHistoryIsUsedAsGivenAndReplacesTheStoredOne() {
        ChatMessage edited = new ChatMessage("assistant", "Hello!!"); // one character differs
        var r = Conversations.resolve(STORED, List.of(SYS, U1, edited, U2));
        assertEquals(Mode.REWRITTEN, r.mode());
        assertEquals(List.of(SYS, U1, edited, U2), r.messages());
        assertEquals(List.of(SYS, U1, edited, U2, new ChatMessage("assistant", "ok")),
                Conversations.afterTurn(STORED, List.of(SYS, U1, edited, U2), "ok"));
    }

    @Test
    void aShorterHistoryWithAnAssistantTurnIsARewrite() {
        List<ChatMessage> first = List.of(U1, A1);
        var r = Conversations.resolve(List.of(SYS, U1, A1, U2, A1), first);
        assertEquals(Mode.REWRITTEN, r.mode());
        assertEquals(first, r.messages());
    }

    @Test
    void afterATurnTheReplyFollowsWhatTheTurnContinued() {
        assertEquals(List.of(SYS, U1, A1, U2, new ChatMessage("assistant", "Then they slept.")),
                Conversations.afterTurn(STORED, List.of(U2), "Then they slept."));
    }
}
