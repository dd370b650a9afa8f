package io.javastor.ioengine.device;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Off-heap buffers aligned for O_DIRECT: the kernel reads and writes them in place, no copy. */
public final class DmaBuffers {
    /** Enough for any logical block size we accept (512 or 4096). */
    public static final int ALIGNMENT = 4096;

    private DmaBuffers() {
    }

    public static ByteBuffer allocate(int size) {
        // alignedSlice also rounds the end down to the alignment: room for whole pages, or a 512-byte buffer can come
        // out empty (it did, when the direct buffer started past a page's first bytes).
        int pages = (size + ALIGNMENT - 1) / ALIGNMENT;
        return ByteBuffer.allocateDirect((pages + 1) * ALIGNMENT).alignedSlice(ALIGNMENT).limit(size).slice()
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    public static boolean isAligned(ByteBuffer b, int alignment) {
        return b.isDirect() && (alignment <= 1 || b.alignmentOffset(b.position(), alignment) == 0);
    }
}
