package io.javastor.core.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.javastor.core.testsupport.EtcdExtension;

/**
 * While a watch answer is being applied the copy already shows the change and its revision does not name it yet: a
 * reader that keys an answer on the revision (the agent's kept volume listing) must find no revision then.
 */
class SpecViewSettledRevisionTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    /** What the view showed at the moment a delete was applied to its copy. */
    private record SeenDuringApply(boolean keyStillInCopy, long revision, long settledRevision) {}

    @Test
    void noSettledRevisionWhileAChangeIsBeingApplied() throws Exception {
        String cluster = "/javastor/settled-revision/";
        String key = cluster + "specs/volume/one";
        try (Client client = etcd.client()) {
            long written = client.getKVClient().put(ByteSequence.from(key, UTF_8), ByteSequence.from("{}", UTF_8)).get().getHeader().getRevision();
            AtomicReference<SpecView> viewRef = new AtomicReference<>();
            List<SeenDuringApply> seen = new CopyOnWriteArrayList<>();
            // onDelete runs inside the apply, after the copy lost the key.
            try (SpecView view = new SpecView(client.getKVClient(), client.getWatchClient(), cluster, cluster + "specs/",
                    deleted -> seen.add(new SeenDuringApply(!viewRef.get().range(cluster + "specs/volume/").isEmpty(),
                            viewRef.get().revision(), viewRef.get().settledRevision())))) {
                viewRef.set(view);
                await().atMost(Duration.ofSeconds(30)).until(() -> view.revision() >= written);
                assertThat(view.settledRevision()).as("settled: nothing being applied").isEqualTo(view.revision());

                long deletedAt = client.getKVClient().delete(ByteSequence.from(key, UTF_8)).get().getHeader().getRevision();
                // Settled again once the apply is over, naming the delete.
                await().atMost(Duration.ofSeconds(30)).until(() -> view.settledRevision() >= deletedAt);
                assertThat(seen).singleElement().satisfies(s -> {
                    assertThat(s.keyStillInCopy()).as("the copy already shows the delete").isFalse();
                    assertThat(s.revision()).as("the revision does not name it yet").isLessThan(deletedAt);
                    assertThat(s.settledRevision()).as("so no settled revision").isEqualTo(-1);
                });
            }
        }
    }
}
