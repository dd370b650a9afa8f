package io.javastor.ioengine.device;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;

/** Blocks to write and the errno an I/O failed with: what tests of fencing and faults compare. */
public final class IoOutcomes {
    private IoOutcomes() {
    }

    /** A direct, aligned buffer of {@code size} bytes, each {@code fill}. */
    public static ByteBuffer filled(int size, int fill) {
        ByteBuffer b = DmaBuffers.allocate(size);
        for (int i = 0; i < size; i++) {
            b.put(i, (byte) fill);
        }
        return b;
    }

    /** Runs {@code io} (a join), which must fail with a BlockIoException; its errno. */
    public static int errnoOf(Runnable io) {
        try {
            io.run();
        } catch (CompletionException e) {
            BlockIoException b = BlockIoException.unwrap(e);
            assertThat(b).as("a BlockIoException inside %s", e).isNotNull();
            return b.errno();
        }
        throw new AssertionError("expected the I/O to fail");
    }
}
