package io.javastor.e2e.torture;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

import io.javastor.e2e.torture.BlockStamp.Seen;
import io.javastor.e2e.torture.DurabilityModel.Problem;

/** The checker itself: what the stamp detects and what the model allows (so a torture run that passes means something). */
class DurabilityModelTest {
    private static final int B = BlockStamp.BLOCK;

    private static Seen stamped(long offset, long seq) {
        ByteBuffer buf = ByteBuffer.allocateDirect(B);
        BlockStamp.fill(buf, 0, offset, seq);
        return BlockStamp.read(buf, 0, offset);
    }

    @Test
    void aStampReadsBackAsItsVersionAndZeroesAsZero() {
        assertThat(stamped(8 * B, 42)).isEqualTo(new Seen(Seen.Kind.VERSION, 8 * B, 42, ""));
        assertThat(BlockStamp.read(ByteBuffer.allocateDirect(B), 0, 0).kind()).isEqualTo(Seen.Kind.ZERO);
    }

    @Test
    void tornMisplacedAndFlippedBlocksAreCorrupt() {
        ByteBuffer a = ByteBuffer.allocateDirect(2 * B);
        BlockStamp.fill(a, 0, 0, 1);
        BlockStamp.fill(a, B, 0, 2);
        ByteBuffer torn = ByteBuffer.allocateDirect(B);
        for (int i = 0; i < B; i++) {
            torn.put(i, a.get(i < 1024 ? i : B + i)); // two sectors of seq 1, the rest of seq 2
        }
        assertThat(BlockStamp.read(torn, 0, 0).detail()).startsWith("torn");
        assertThat(BlockStamp.read(a, 0, B).detail()).startsWith("another block's data");
        a.put(100, (byte) (a.get(100) ^ 1));
        assertThat(BlockStamp.read(a, 0, 0).detail()).startsWith("checksum mismatch");
    }

    @Test
    void aFlushCoversOnlyWritesCompletedBeforeItStarted() {
        DurabilityModel m = new DurabilityModel();
        long s1 = m.sent(0);
        m.completed(0, s1, false);
        long flush = m.flushSent();
        long s2 = m.sent(0);
        m.completed(0, s2, false); // completed after the flush started: not covered
        m.flushCompleted(flush);
        assertThat(m.durableSeq(0)).isEqualTo(s1);
        assertThat(m.check(0, stamped(0, s1))).isNull();
        assertThat(m.check(0, stamped(0, s2))).isNull();
        assertThat(m.check(0, Seen.zero()).kind()).isEqualTo(Problem.Kind.LOST);
    }

    @Test
    void aCompletedFuaWriteIsDurableAndAnOlderVersionIsALoss() {
        DurabilityModel m = new DurabilityModel();
        long s1 = m.sent(B);
        m.completed(B, s1, false);
        long s2 = m.sent(B);
        m.completed(B, s2, true);
        long s3 = m.sent(B); // failed or in flight: may or may not be there
        assertThat(m.check(B, stamped(B, s2))).isNull();
        assertThat(m.check(B, stamped(B, s3))).isNull();
        assertThat(m.check(B, stamped(B, s1)).kind()).isEqualTo(Problem.Kind.LOST);
        assertThat(m.check(B, stamped(B, 999)).kind()).as("a version never sent to this block").isEqualTo(Problem.Kind.CORRUPT);
    }

    @Test
    void aBlockWithoutADurableVersionMayReadZeroesOrAnyVersionSent() {
        DurabilityModel m = new DurabilityModel();
        long s1 = m.sent(0);
        m.completed(0, s1, false);
        assertThat(m.check(0, Seen.zero())).isNull();
        assertThat(m.check(0, stamped(0, s1))).isNull();
    }
}
