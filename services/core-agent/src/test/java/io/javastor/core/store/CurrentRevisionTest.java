package io.javastor.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import org.junit.jupiter.api.Test;

/** The shared revision read: never answers a caller with a read that started before it called; never wedges. */
class CurrentRevisionTest {

    private final List<CompletableFuture<Long>> reads = new ArrayList<>();
    private final CurrentRevision revision = new CurrentRevision(() -> {
        CompletableFuture<Long> f = new CompletableFuture<>();
        reads.add(f);
        return f;
    });

    @Test
    void callersArrivingDuringAReadShareTheNextOne() throws Exception {
        CompletableFuture<Long> first = revision.get();
        CompletableFuture<Long> second = revision.get();
        CompletableFuture<Long> third = revision.get();
        assertThat(reads).as("one read on its way").hasSize(1);
        assertThat(second).as("a later caller never gets the read already on its way").isNotSameAs(first).isSameAs(third);

        reads.get(0).complete(10L);
        assertThat(first.get()).isEqualTo(10L);
        assertThat(reads).as("the next read starts once the first is answered").hasSize(2);
        assertThat(second).isNotDone();
        reads.get(1).complete(12L);
        assertThat(second.get()).isEqualTo(12L);
        assertThat(third.get()).isEqualTo(12L);

        CompletableFuture<Long> fourth = revision.get();
        assertThat(reads).as("nothing on its way: a new read").hasSize(3);
        reads.get(2).complete(13L);
        assertThat(fourth.get()).isEqualTo(13L);
    }

    @Test
    void aFailedReadFailsItsCallersAndTheNextCallStartsAnother() throws Exception {
        CompletableFuture<Long> first = revision.get();
        CompletableFuture<Long> second = revision.get();
        reads.get(0).completeExceptionally(new IllegalStateException("etcd down"));
        assertThatThrownBy(first::get).isInstanceOf(ExecutionException.class).hasMessageContaining("etcd down");
        reads.get(1).completeExceptionally(new IllegalStateException("still down"));
        assertThatThrownBy(second::get).isInstanceOf(ExecutionException.class).hasMessageContaining("still down");
        CompletableFuture<Long> third = revision.get();
        assertThat(reads).hasSize(3);
        reads.get(2).complete(7L);
        assertThat(third.get()).isEqualTo(7L);
    }

    @Test
    void aReadThatThrowsAtOnceDoesNotWedgeLaterCallers() throws Exception {
        CurrentRevision throwing = new CurrentRevision(new java.util.function.Supplier<>() {
            int calls;

            @Override
            public CompletableFuture<Long> get() {
                if (calls++ == 0) {
                    throw new IllegalStateException("client closed");
                }
                return CompletableFuture.completedFuture(42L);
            }
        });
        assertThatThrownBy(() -> throwing.get().get()).hasMessageContaining("client closed");
        assertThat(throwing.get().get()).isEqualTo(42L);
        assertThat(throwing.get().get()).as("answered at once, nothing left on its way").isEqualTo(42L);
    }
}
