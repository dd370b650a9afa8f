package io.javastor.core.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.kv.PutResponse;
import io.javastor.core.testsupport.EtcdExtension;

/**
 * A copy that lost its watch is loaded again from etcd; a reader still reading the copy it was given (its revision
 * check passed before the loss) sees the old copy whole or the new one whole, never one emptied and half refilled.
 */
class SpecViewReloadTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    private static final int SPECS = 3000;

    @Test
    void aReloadNeverShowsAReaderAPartialCopy(org.junit.jupiter.api.TestInfo info) throws Exception {
        String cluster = "/javastor/reload-" + info.getTestMethod().orElseThrow().getName() + "/";
        String kind = cluster + "specs/volume/";
        try (Client client = etcd.client()) {
            List<CompletableFuture<PutResponse>> puts = new ArrayList<>();
            for (int i = 0; i < SPECS; i++) {
                puts.add(client.getKVClient().put(ByteSequence.from(kind + String.format("%05d", i), UTF_8), ByteSequence.from("{}", UTF_8)));
            }
            long written = 0;
            for (CompletableFuture<PutResponse> put : puts) {
                written = Math.max(written, put.get().getHeader().getRevision());
            }
            try (SpecView view = new SpecView(client.getKVClient(), client.getWatchClient(), cluster, cluster + "specs/", key -> { })) {
                long loaded = written;
                await().atMost(Duration.ofSeconds(30)).until(() -> view.revision() >= loaded);
                assertThat(view.range(kind)).hasSize(SPECS);

                AtomicBoolean stop = new AtomicBoolean();
                AtomicInteger fewest = new AtomicInteger(SPECS);
                AtomicLong reads = new AtomicLong();
                Thread reader = new Thread(() -> {
                    while (!stop.get()) {
                        fewest.accumulateAndGet(view.range(kind).size(), Math::min);
                        reads.incrementAndGet();
                    }
                }, "reader");
                reader.start();
                try {
                    view.lost("watch", new IllegalStateException("a watch cancelled by etcd's compaction (simulated)"));
                    assertThat(view.revision()).as("unusable until reloaded").isEqualTo(-1);
                    await().atMost(Duration.ofSeconds(30)).until(() -> view.revision() >= loaded);
                    long after = reads.get();
                    await().atMost(Duration.ofSeconds(30)).until(() -> reads.get() > after + 100);
                } finally {
                    stop.set(true);
                    reader.join();
                }
                assertThat(fewest.get()).as("the fewest specs a reader saw across the reload").isEqualTo(SPECS);
            }
        }
    }
}
