package io.javastor.ioengine.process;

import io.javastor.testsupport.IoEngineProcess;

import io.javastor.api.ioengine.v1.CreatePoolRequest;
import io.javastor.api.ioengine.v1.CreateReplicaRequest;
import io.javastor.api.ioengine.v1.ShareProtocol;
import io.javastor.api.ioengine.v1.ShareReplicaRequest;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import io.javastor.testsupport.FreePorts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What NVMe calls durable survives {@code kill -9} of the io-engine, with no Flush from the host: a Write with FUA,
 * any write while the host turned the volatile write cache off, and writes before a controller shutdown (CC.SHN)
 * the target reported complete. Every write goes to a fresh cluster of a thin replica, so the pool must also have
 * committed the allocation. Each case has a pool of its own: one pool's commit would otherwise make another's
 * allocations durable and hide a loss.
 */
class DurableWritesKillNineTest {
    private static final long MiB = 1 << 20;
    private static final int BLOCKS = 16;
    private static final String HOST = "nqn.2019-05.io.javastor:node-name:durability-host";

    @TempDir
    Path dir;

    @Test
    void fuaWritesWriteThroughWritesAndWritesBeforeShutdownSurviveKillNineWithoutAFlush() throws Exception {
        int nvmfPort = FreePorts.next();
        List<String> disks = List.of(disk("fua"), disk("wt"), disk("shn"));
        try (IoEngineProcess engine = IoEngineProcess.fromClasspath("node-dur", disks, dir.resolve("engine.log"),
                List.of("--javastor.io-engine.nvmf.port=" + nvmfPort)).start()) {
            List<ShareReplicaRequest> shares = new ArrayList<>();
            for (String name : List.of("fua", "wt", "shn")) {
                engine.api().pools().createPool(CreatePoolRequest.newBuilder().setName(name).addDisks(disk(name)).setClusterSize(MiB).build());
                String id = UUID.randomUUID().toString();
                engine.api().replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(id).setPool(name).setSize(BLOCKS * MiB).setThin(true).build());
                shares.add(ShareReplicaRequest.newBuilder().setUuid(id).setProtocol(ShareProtocol.SHARE_PROTOCOL_NVMF).addAllowedHosts(HOST).build());
            }
            NvmfBlockDevice fua = connect(engine, shares.get(0));
            NvmfBlockDevice writeThrough = connect(engine, shares.get(1));
            try (NvmfBlockDevice beforeShutdown = connect(engine, shares.get(2))) {
                writeThrough.volatileWriteCache(false);
                for (int i = 0; i < BLOCKS; i++) {
                    fua.writeFua(i * MiB, block(0, i)).join();
                    writeThrough.write(i * MiB, block(1, i)).join();
                    beforeShutdown.write(i * MiB, block(2, i)).join();
                }
            } // close: shutdown notification, acknowledged only once the target has flushed
            engine.kill9(); // right after the acknowledgements: no flush, no orderly stop
            fua.close();
            writeThrough.close();

            engine.start();
            java.util.Map<String, List<Integer>> lost = new java.util.LinkedHashMap<>();
            List<String> cases = List.of("FUA writes", "writes with the volatile write cache off", "writes before a completed shutdown");
            for (int pool = 0; pool < 3; pool++) {
                try (NvmfBlockDevice dev = connect(engine, shares.get(pool))) {
                    List<Integer> missing = new ArrayList<>();
                    for (int i = 0; i < BLOCKS; i++) {
                        ByteBuffer got = DmaBuffers.allocate(4096);
                        dev.read(i * MiB, got).join();
                        if (!got.equals(block(pool, i))) {
                            missing.add(i);
                        }
                    }
                    lost.put(cases.get(pool), missing);
                }
            }
            assertThat(lost).as("blocks lost after kill -9, per kind of durable write").allSatisfy((kind, blocks) ->
                    assertThat(blocks).as(kind).isEmpty());
        }
    }

    private String disk(String name) {
        return "uring://" + dir.resolve(name + ".img") + "?size_mb=64";
    }

    private static NvmfBlockDevice connect(IoEngineProcess engine, ShareReplicaRequest share) {
        String uri = engine.api().replicas().shareReplica(share).getUri(); // shares are not persistent: share again after a restart
        return NvmfBlockDevice.connect(uri, NvmfHostOptions.defaults(HOST));
    }

    /** 4 KiB naming its case and block, so a block from elsewhere or zeroes never pass. */
    private static ByteBuffer block(int kase, int i) {
        ByteBuffer b = DmaBuffers.allocate(4096);
        for (int at = 0; at < 4096; at += 8) {
            b.putLong(at, ((long) kase << 48) | ((long) i << 32) | at | 0x5A00_0000L);
        }
        return b;
    }
}
