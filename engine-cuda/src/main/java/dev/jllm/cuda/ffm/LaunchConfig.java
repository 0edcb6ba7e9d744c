package dev.jllm.cuda.ffm;

/** Grid and block dimensions and dynamic shared memory of one kernel launch. */
public record LaunchConfig(int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedMemBytes) {
    public LaunchConfig {
        if (gridX < 1 || gridY < 1 || gridZ < 1) throw new IllegalArgumentException("empty grid " + gridX + "x" + gridY + "x" + gridZ);
        if (blockX < 1 || blockY < 1 || blockZ < 1 || (long) blockX * blockY * blockZ > 1024) {
            throw new IllegalArgumentException("block " + blockX + "x" + blockY + "x" + blockZ + " outside 1..1024 threads");
        }
        if (sharedMemBytes < 0) throw new IllegalArgumentException("negative shared memory " + sharedMemBytes);
    }

    public static LaunchConfig of(int gridX, int blockX) {
        return new LaunchConfig(gridX, 1, 1, blockX, 1, 1, 0);
    }

    public static LaunchConfig of(int gridX, int gridY, int blockX) {
        return new LaunchConfig(gridX, gridY, 1, blockX, 1, 1, 0);
    }

    public static LaunchConfig of(int gridX, int gridY, int gridZ, int blockX, int sharedMemBytes) {
        return new LaunchConfig(gridX, gridY, gridZ, blockX, 1, 1, sharedMemBytes);
    }

    /** {@code ceil(n / d)}. */
    public static int blocks(long n, int d) {
        return (int) ((n + d - 1) / d);
    }
}
