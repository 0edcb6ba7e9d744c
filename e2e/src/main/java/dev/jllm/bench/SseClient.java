package dev.jllm.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.function.BiConsumer;

/**
 * A minimal HTTP/1.1 client for timing server-sent events: one keep-alive connection, the request written and the
 * chunked response read on the calling thread, each {@code data:} line handed over with the time its chunk was read.
 * A general-purpose client (the JDK's {@code HttpClient}) moves every response through its selector thread and an
 * executor before the caller sees a byte; on a loaded 2-core machine those hand-offs added 3-5 ms to the measured
 * time to first token, which belongs to the client, not to the stack being measured. Not thread-safe: one per thread.
 */
final class SseClient implements AutoCloseable {
    private final String host;
    private final int port;
    private Socket socket;
    private InputStream in;
    private OutputStream out;

    SseClient(String url) {
        URI u = URI.create(url);
        this.host = u.getHost();
        this.port = u.getPort() > 0 ? u.getPort() : 80;
    }

    /**
     * POSTs {@code json} to {@code path} and calls {@code onData(line, nanoTime)} for every {@code data:} line of the
     * event stream (without the prefix), until {@code [DONE]} or the end of the response.
     *
     * @throws IOException on a connection failure or a non-200 status (with the body)
     */
    void stream(String path, String json, BiConsumer<String, Long> onData) throws IOException {
        if (socket == null || socket.isClosed()) connect();
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        String head = "POST " + path + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\nContent-Type: application/json\r\n"
                + "Accept: text/event-stream\r\nContent-Length: " + body.length + "\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        String status = line();
        boolean chunked = false;
        long length = -1;
        boolean close = false;
        for (String h = line(); !h.isEmpty(); h = line()) {
            String lower = h.toLowerCase(Locale.ROOT);
            if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) chunked = true;
            else if (lower.startsWith("content-length:")) length = Long.parseLong(lower.substring(15).trim());
            else if (lower.startsWith("connection:") && lower.contains("close")) close = true;
        }
        if (!status.startsWith("HTTP/1.1 200")) {
            byte[] rest = length >= 0 ? in.readNBytes((int) length) : new byte[0];
            closeQuietly();
            throw new IOException(status + ": " + new String(rest, StandardCharsets.UTF_8));
        }
        ByteArrayOutputStream pending = new ByteArrayOutputStream();
        if (chunked) {
            while (true) {
                int size = Integer.parseInt(line().split(";", 2)[0].trim(), 16);
                if (size == 0) {
                    while (!line().isEmpty()) { } // trailers
                    break;
                }
                byte[] chunk = in.readNBytes(size);
                if (chunk.length < size) throw new EOFException("response ended inside a chunk");
                long now = System.nanoTime();
                line(); // the CRLF after the chunk
                lines(pending, chunk, now, onData);
            }
        } else {
            byte[] all = length >= 0 ? in.readNBytes((int) length) : in.readAllBytes();
            lines(pending, all, System.nanoTime(), onData);
            close = close || length < 0;
        }
        if (close) closeQuietly();
    }

    private static void lines(ByteArrayOutputStream pending, byte[] bytes, long now, BiConsumer<String, Long> onData) {
        for (byte b : bytes) {
            if (b != '\n') {
                pending.write(b);
                continue;
            }
            String l = pending.toString(StandardCharsets.UTF_8);
            pending.reset();
            if (l.startsWith("data: ")) onData.accept(l.substring(6), now);
        }
    }

    private String line() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c = in.read(); ; c = in.read()) {
            if (c < 0) throw new EOFException("connection closed by the server");
            if (c == '\n') break;
            if (c != '\r') sb.append((char) c);
        }
        return sb.toString();
    }

    private void connect() throws IOException {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(host, port), 5_000);
        socket.setSoTimeout(300_000); // a stalled stream fails the bench instead of hanging it
        in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        out = socket.getOutputStream();
    }

    private void closeQuietly() {
        try {
            if (socket != null) socket.close();
        } catch (IOException ignored) {
            // closing
        }
        socket = null;
    }

    @Override
    public void close() {
        closeQuietly();
    }
}
