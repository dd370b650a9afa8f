package io.javastor.testsupport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * Seeded data a test writes to a volume block by block and reads back to check: the same seed gives the same bytes,
 * so a test can say what a volume must hold after a crash, a move or a rebuild. Device-neutral (this module does not
 * depend on the io-engine): a test hands its device over as a {@link Device}, {@code Device.of(dev::read, dev::write,
 * dev::flush)}.
 */
public final class BlockPattern {

    /** Each read, write and flush: long enough for a target busy rebuilding on a loaded 2-core test machine. */
    private static final long DEADLINE_SECONDS = 120;
    /** Buffers aligned as the io-engine's DMA buffers are (a device may read them in place). */
    private static final int ALIGNMENT = 4096;

    private BlockPattern() {
    }

    /** The block I/O a pattern is written and checked through. */
    public interface Device {
        CompletableFuture<Void> read(long offset, ByteBuffer dst);

        CompletableFuture<Void> write(long offset, ByteBuffer src);

        CompletableFuture<Void> flush();

        static Device of(BiFunction<Long, ByteBuffer, CompletableFuture<Void>> read, BiFunction<Long, ByteBuffer, CompletableFuture<Void>> write,
                         Supplier<CompletableFuture<Void>> flush) {
            return new Device() {
                @Override
                public CompletableFuture<Void> read(long offset, ByteBuffer dst) {
                    return read.apply(offset, dst);
                }

                @Override
                public CompletableFuture<Void> write(long offset, ByteBuffer src) {
                    return write.apply(offset, src);
                }

                @Override
                public CompletableFuture<Void> flush() {
                    return flush.get();
                }
            };
        }
    }

    /** {@code size} bytes from {@code seed}: the same seed, the same bytes. */
    public static byte[] seeded(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Writes all of {@code data} from offset 0, block by block, then flushes. */
    public static void writeAll(Device dev, byte[] data, int blockSize) throws Exception {
        write(dev, data, 0, data.length, blockSize);
    }

    /** Writes {@code data[from, to)} at the same offsets, block by block, then flushes. */
    public static void write(Device dev, byte[] data, int from, int to, int blockSize) throws Exception {
        requireBlocks(from, to, blockSize);
        for (int off = from; off < to; off += blockSize) {
            ByteBuffer buf = buffer(blockSize);
            buf.put(data, off, blockSize).flip();
            dev.write(off, buf).get(DEADLINE_SECONDS, TimeUnit.SECONDS);
        }
        dev.flush().get(DEADLINE_SECONDS, TimeUnit.SECONDS);
    }

    /** Reads the device from offset 0, block by block, and fails at the first block that differs from {@code data}. */
    public static void assertHolds(Device dev, byte[] data, int blockSize, String what) throws Exception {
        requireBlocks(0, data.length, blockSize);
        for (int off = 0; off < data.length; off += blockSize) {
            ByteBuffer buf = buffer(blockSize);
            dev.read(off, buf).get(DEADLINE_SECONDS, TimeUnit.SECONDS);
            byte[] got = new byte[blockSize];
            buf.clear().get(got); // the device fills the buffer without moving its position
            int at = off;
            assertArrayEquals(Arrays.copyOfRange(data, off, off + blockSize), got, () -> what + ": block at offset " + at);
        }
    }

    private static void requireBlocks(int from, int to, int blockSize) {
        if (blockSize <= 0 || from < 0 || from > to || from % blockSize != 0 || to % blockSize != 0) {
            throw new IllegalArgumentException("range [" + from + ", " + to + ") is not whole blocks of " + blockSize + " bytes");
        }
    }

    private static ByteBuffer buffer(int size) {
        int pages = (size + ALIGNMENT - 1) / ALIGNMENT;
        return ByteBuffer.allocateDirect((pages + 1) * ALIGNMENT).alignedSlice(ALIGNMENT).limit(size).slice();
    }
}
