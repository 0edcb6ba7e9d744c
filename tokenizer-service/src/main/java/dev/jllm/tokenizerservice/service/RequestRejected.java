package dev.jllm.tokenizerservice.service;

/** A request that cannot be served as asked; becomes an OpenAI-style error (HTTP or error event). */
public final class RequestRejected extends RuntimeException {
    public final int status;
    public final String param;
    public final String code;

    public RequestRejected(int status, String message, String param, String code) {
        super(message, null, false, false);
        this.status = status;
        this.param = param;
        this.code = code;
    }
}
