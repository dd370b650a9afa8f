package io.javastor.ioengine.nexus;

import java.time.Instant;

/**
 * Progress of a rebuild (running or finished: the history keeps these).
 *
 * @param childUri        the child being rebuilt
 * @param sourceUri       the child copied from (the last one used)
 * @param partial         true when only segments written while the child was away are copied
 * @param blocksTotal     blocks to copy
 * @param blocksRecovered blocks copied so far
 * @param end             null while running
 * @param reason          why it failed or was cancelled; empty otherwise
 */
public record RebuildStats(String childUri, String sourceUri, RebuildState state, boolean partial, long blocksTotal,
                           long blocksRecovered, int blockSize, Instant start, Instant end, String reason) {
    public int percent() {
        return blocksTotal == 0 ? 100 : (int) (blocksRecovered * 100 / blocksTotal);
    }
}
