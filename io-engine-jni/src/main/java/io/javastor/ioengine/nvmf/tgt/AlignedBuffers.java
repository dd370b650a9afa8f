package io.javastor.ioengine.nvmf.tgt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Pooled direct buffers whose memory starts at an alignment (O_DIRECT needs the device's): a slightly
 * larger pooled buffer, sliced at the first aligned address. Releasing the slice frees the whole buffer.
 */
public final class AlignedBuffers {
    private AlignedBuffers() {
    }

    /** An empty (writerIndex 0) direct buffer of {@code length} bytes aligned to {@code alignment}. */
    public static ByteBuf allocate(ByteBufAllocator alloc, int length, int alignment) {
        if (alignment <= 1) {
            return alloc.directBuffer(length, length);
        }
        ByteBuf raw = alloc.directBuffer(length + alignment);
        int shift;
        if (raw.hasMemoryAddress()) {
            long addr = raw.memoryAddress();
            shift = (int) ((alignment - (addr % alignment)) % alignment);
        } else {
            int mis = raw.nioBuffer(0, alignment).alignmentOffset(0, alignment);
            shift = mis == 0 ? 0 : alignment - mis;
        }
        return raw.slice(shift, length).clear();
    }
}
