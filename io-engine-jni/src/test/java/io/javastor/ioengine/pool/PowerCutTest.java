package io.javastor.ioengine.pool;

import io.javastor.ioengine.device.BlockDevice;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Simulated power cuts at every (or an even sample of every) mutating device operation of a stream
 * of replica creates, destroys, resizes, snapshots (copy-on-write), clones, snapshot deletions (merges), thin writes
 * and flushes; after each cut the pool must import
 * with every acknowledged replica and every flushed write intact, and nothing unacknowledged invented.
 */
class PowerCutTest {
    private static final long DEVICE = 16L << 20;
    private static final long CLUSTER = 1L << 20;
    private static final int OPS = 70;
    private static final CrashStream.Shape SHAPE = new CrashStream.Shape(64 << 10, 3L << 20, 6);

    private record Outcome(long mutations, boolean poolAcked, List<String> problems, String importResult, StreamModel model) {
    }

    @Test
    void everyCutPointLeavesAnImportablePoolWithEveryAcknowledgedWrite() {
        int tested = 0;
        List<String> failures = new ArrayList<>();
        java.util.Map<String, Integer> kinds = new java.util.TreeMap<>();
        for (long seed = 1; seed <= 6; seed++) {
            Outcome whole = runOnce(seed, Long.MAX_VALUE);
            for (String kind : List.of("ACK SNAPSHOT", "ACK CLONE", "ACK DESTROYSNAP", "ACK DESTROY", "ACK FLUSH")) {
                kinds.merge(kind, whole.model().count(kind), Integer::sum);
            }
            long total = whole.mutations();
            assertThat(total).as("mutating operations in stream %d", seed).isGreaterThan(100);
            long step = Math.max(1, total / 300);
            for (long cut = 1; cut <= total; cut += step) {
                Outcome o = runOnce(seed, cut);
                tested++;
                if (!o.problems().isEmpty()) {
                    failures.add("seed " + seed + " cut at op " + cut + "/" + total + " (" + o.importResult() + "): " + o.problems());
                }
            }
        }
        System.out.println("operations in the uncut streams: " + kinds + "; cut points tested: " + tested);
        assertThat(kinds).as("the streams take, clone and delete snapshots")
                .containsEntry("ACK SNAPSHOT", Math.max(10, kinds.get("ACK SNAPSHOT")))
                .containsEntry("ACK CLONE", Math.max(3, kinds.get("ACK CLONE")))
                .containsEntry("ACK DESTROYSNAP", Math.max(5, kinds.get("ACK DESTROYSNAP")));
        assertThat(tested).as("cut points tested").isGreaterThanOrEqualTo(1000);
        assertThat(failures).as("inconsistent imports after a power cut").isEmpty();
    }

    private Outcome runOnce(long seed, long cutAt) {
        PowerCutDevice dev = new PowerCutDevice(DEVICE, cutAt, seed * 7919 + cutAt);
        StreamModel model = new StreamModel();
        boolean poolAcked = false;
        Pool pool = null;
        try {
            pool = Pool.create("malloc:///power-cut", dev, "pc", CLUSTER, 2.5);
            poolAcked = true;
        } catch (RuntimeException e) {
            assertThat(dev.isDead()).as("pool create failed without a power cut: %s", e).isTrue();
        }
        if (pool != null) {
            CrashStream.run(pool, seed, OPS, SHAPE, model::apply);
            pool.close();
        }
        long mutations = dev.mutations();
        BlockDevice image = dev.durableImage();
        Pool.Probe probe = Pool.probe(image);
        List<String> problems = new ArrayList<>();
        String result = probe.getClass().getSimpleName();
        if (probe instanceof Pool.Probe.Found f) {
            Pool imported = Pool.open("malloc:///after-cut", image, f, 2.5);
            problems.addAll(model.verify(imported));
            if (!poolAcked && !imported.replicas().isEmpty()) {
                problems.add("a pool whose create was never acknowledged has replicas");
            }
            imported.close();
        } else if (poolAcked) {
            problems.add("acknowledged pool did not import: " + probe);
        }
        return new Outcome(mutations, poolAcked, problems, result, model);
    }
}
