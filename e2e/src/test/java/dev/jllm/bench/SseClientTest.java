package dev.jllm.bench;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SseClientTest {

    /** Serves, on one connection: a chunked event stream whose lines straddle chunks, the same again, then a 400. */
    @Test
    void readsChunkedEventsAcrossChunkBoundariesOnOneConnection() throws Exception {
        try (ServerSocket server = new ServerSocket(0)) {
            Thread t = Thread.ofPlatform().daemon().start(() -> serve(server));
            try (SseClient client = new SseClient("http://127.0.0.1:" + server.getLocalPort())) {
                for (int round = 0; round < 2; round++) {
                    List<String> data = new ArrayList<>();
                    client.stream("/v1/completions", "{}", (line, now) -> data.add(line));
                    assertEquals(List.of("{\"a\":1}", "{\"b\":\"x y\"}", "[DONE]"), data);
                }
                IOException e = assertThrows(IOException.class, () -> client.stream("/v1/completions", "{}", (l, n) -> { }));
                assertTrue(e.getMessage().contains("400") && e.getMessage().contains("bad"), e.getMessage());
            }
            t.join(5_000);
        }
    }

    private static void serve(ServerSocket server) {
        try (Socket s = server.accept()) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            for (int round = 0; round < 3; round++) {
                readRequest(in);
                if (round < 2) {
                    out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    for (String chunk : List.of("data: {\"a\":1}\n\nda", "ta: {\"b\":\"x y\"}\n", "\ndata: [DONE]\n\n")) {
                        byte[] b = chunk.getBytes(StandardCharsets.UTF_8);
                        out.write((Integer.toHexString(b.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                        out.write(b);
                        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                } else {
                    out.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad".getBytes(StandardCharsets.US_ASCII));
                }
                out.flush();
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Headers up to the blank line, then Content-Length bytes of body. */
    private static void readRequest(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) throw new IOException("client closed");
            head.append((char) c);
        }
        for (String h : head.toString().split("\r\n")) {
            if (h.toLowerCase().startsWith("content-length:")) in.readNBytes(Integer.parseInt(h.substring(15).trim()));
        }
    }
}
