package dev.jllm.cuda.ffm;

import java.util.List;

/**
 * A kernel entry point resolved in a loaded module ({@code cuModuleGetFunction}), with the parameter
 * kinds its C signature has: every launch is checked against them before it reaches the driver.
 */
public record CudaFunction(String name, long handle, List<ParamKind> signature) {
    public CudaFunction {
        signature = List.copyOf(signature);
    }

    /** Throws, naming the kernel and the parameter, when {@code args} do not match the signature. */
    public void checkArgs(KernelArgs args) {
        List<ParamKind> given = args.kinds();
        if (given.size() != signature.size()) {
            throw new IllegalArgumentException(name + " takes " + signature.size() + " arguments " + signature
                    + ", got " + given.size() + " " + given);
        }
        for (int i = 0; i < given.size(); i++) {
            if (given.get(i) != signature.get(i)) {
                throw new IllegalArgumentException(name + " argument " + i + " must be " + signature.get(i)
                        + ", got " + given.get(i));
            }
        }
    }
}
