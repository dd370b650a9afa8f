package io.javastor.core.store;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Txn;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.javastor.core.operation.CoreException;
import tools.jackson.databind.json.JsonMapper;

/**
 * Specs in etcd under {@code /javastor/<cluster>/specs/<kind>/<id>} as JSON. Every write is one etcd
 * transaction that checks the key's revision (and the write fence), so two agents can never both
 * apply conflicting changes: the second one gets {@link CoreException.Conflict} and must re-read.
 * <p>
 * Reads go to etcd, except inside {@link #consistentRead}: there they are served from the agent's watch-fed
 * {@link SpecView} once the copy holds every write made before: shown by the leader's lease (no other agent can have
 * written since its term, and the copy holds the term and this store's own writes) or else by one linearizable read of
 * etcd's revision.
 */
public final class SpecStore implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SpecStore.class);

    private final KV kv;
    private final String prefix;
    private final WriteFence fence;
    private final long timeoutMillis;
    private final JsonMapper json = JsonMapper.builder().build();
    /** Decoded specs by key, valid while the key's mod revision is unchanged: reconcilers list often, specs change rarely. */
    private final java.util.concurrent.ConcurrentHashMap<String, Versioned<?>> decoded = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.ConcurrentHashMap<String, Listing> listings = new java.util.concurrent.ConcurrentHashMap<>();
    /** The watch-fed copy {@link #consistentRead} serves from; null for a store without one (reads all go to etcd). */
    private final SpecView view;
    private final CurrentRevision currentRevision;
    /** Set on a thread while it runs a {@link #consistentRead} body that the view may serve. */
    private final ThreadLocal<Boolean> servedFromView = new ThreadLocal<>();
    private final java.util.concurrent.atomic.LongAdder viewReads = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder etcdReads = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder leaseReads = new java.util.concurrent.atomic.LongAdder();
    /**
     * The highest store revision any answer from etcd to this store carried: its writes (won or lost), and its reads.
     * A read trusted on the leader's lease waits for the copy to hold it, so it shows every write this agent made and
     * never less than an earlier read showed (a write whose answer timed out may still have landed and been read).
     */
    private final java.util.concurrent.atomic.AtomicLong seenRevision = new java.util.concurrent.atomic.AtomicLong();

    /** A store whose reads all go to etcd (tools and tests that write specs beside an agent). */
    public SpecStore(KV kv, String cluster, WriteFence fence, long timeoutMillis) {
        this(kv, null, cluster, fence, timeoutMillis);
    }

    /** A store that also keeps a watch-fed copy of the cluster's specs for {@link #consistentRead} (the agent's). */
    public SpecStore(KV kv, io.etcd.jetcd.Watch watch, String cluster, WriteFence fence, long timeoutMillis) {
        this.kv = kv;
        this.prefix = "/javastor/" + cluster + "/specs/";
        this.fence = fence;
        this.timeoutMillis = timeoutMillis;
        this.view = watch == null ? null : new SpecView(kv, watch, "/javastor/" + cluster + "/", prefix, decoded::remove);
        // Any linearizable read answers with etcd's revision; a count of one key costs the least.
        ByteSequence anyKey = bytes(prefix);
        this.currentRevision = new CurrentRevision(() -> kv.get(anyKey, GetOption.builder().withCountOnly(true).build())
                .thenApply(r -> r.getHeader().getRevision()));
    }

    /**
     * Runs a read-only body (an API Get or List) with its spec reads served from the watch-fed copy once the copy holds
     * every write committed before this call: the body sees what reading etcd would have shown, without a round trip
     * per spec or listing. On the leader, while its lease surely holds ({@link WriteFence#soleWriterSince}), the only
     * writes there can be are the previous terms' and this agent's own, so the copy is current once it holds the term
     * and {@link #seenRevision}, and etcd is not asked at all; elsewhere one linearizable read of etcd's revision shows
     * what the copy must hold. When the copy is behind (a change still on its way through the watch beyond a short wait,
     * the watch lost, etcd unreachable) the body reads etcd as usual. A write in the body ends the copy's serving for the
     * rest of it, so the body reads its own writes.
     */
    public <T> T consistentRead(java.util.function.Supplier<T> body) {
        if (view == null || servedFromView.get() != null) {
            return body.get();
        }
        if (!viewIsCurrent()) {
            etcdReads.increment();
            return body.get();
        }
        viewReads.increment();
        servedFromView.set(Boolean.TRUE);
        try {
            return body.get();
        } finally {
            servedFromView.remove();
        }
    }

    /**
     * Reads served from the view, from etcd, and (a part of the first) from the view on the leader's lease without asking
     * etcd, by {@link #consistentRead} so far (for metrics and tests).
     */
    public long[] consistentReadCounts() {
        return new long[] {viewReads.sum(), etcdReads.sum(), leaseReads.sum()};
    }

    private boolean viewIsCurrent() {
        if (view.revision() < 0) {
            return false;
        }
        try {
            long wait = Math.min(timeoutMillis, 200);
            java.util.OptionalLong soleWriterSince = fence.soleWriterSince();
            if (soleWriterSince.isPresent()) {
                boolean current = view.awaitRevision(Math.max(soleWriterSince.getAsLong(), seenRevision.get()), wait);
                if (current) {
                    leaseReads.increment();
                }
                return current;
            }
            long now = currentRevision.get().get(timeoutMillis, TimeUnit.MILLISECONDS);
            return view.awaitRevision(now, wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException e) {
            return false; // the body's own reads report etcd's trouble with the usual error
        }
    }

    /** Notes the revision an answer from etcd carried (see {@link #seenRevision}); returns the answer. */
    private <R extends io.etcd.jetcd.Response> R seen(R response) {
        seenRevision.accumulateAndGet(response.getHeader().getRevision(), Math::max);
        return response;
    }

    /**
     * Inside {@link #consistentRead}: the revision the watch-fed copy had when asked, when this body's reads are served
     * from it and no change was being applied to it (each read then sees every change up to that revision, and perhaps
     * later ones); empty otherwise. An answer built from specs after a reader found a revision may be given again to a
     * reader that finds the same one: it holds every change that reader must see.
     */
    public java.util.OptionalLong servingRevision() {
        long r = fromView() ? view.settledRevision() : -1;
        return r < 0 ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(r);
    }

    private boolean fromView() {
        return view != null && servedFromView.get() != null;
    }

    @Override
    public void close() {
        if (view != null) {
            view.close();
        }
    }

    public <T extends Spec> Optional<Versioned<T>> get(SpecKind<T> kind, String id) {
        if (fromView()) {
            return view.get(key(kind, id).toString(UTF_8)).map(each -> decode(kind, each));
        }
        List<KeyValue> kvs = seen(await(kv.get(key(kind, id)), "read " + kind.name() + " " + id)).getKvs();
        return kvs.isEmpty() ? Optional.empty() : Optional.of(decode(kind, kvs.get(0)));
    }

    /**
     * Every spec of the kind, as etcd holds it now (a linearizable read). The last listing of each kind is kept with
     * the store revision it was read at; a later listing first asks etcd, keys only, for the kind's keys changed since
     * that revision and their count: none changed and as many as then means none was created, changed or deleted since,
     * and the kept listing is today's. An API read of one volume lists its replicas, targets and snapshots: at a
     * thousand volumes each of those listings moved every spec of the kind over TLS for each request.
     */
    public <T extends Spec> List<Versioned<T>> list(SpecKind<T> kind) {
        String kindPrefix = prefix + kind.name() + "/";
        if (fromView()) {
            List<Versioned<T>> out = new ArrayList<>();
            view.range(kindPrefix).forEach(each -> out.add(decode(kind, each)));
            return out;
        }
        ByteSequence p = bytes(kindPrefix);
        Listing kept = listings.get(kind.name());
        if (kept != null) {
            // One read-only transaction (one linearizable read): how many keys the kind has, and which changed since.
            TxnResponse check = seen(await(kv.txn().Then(
                    Op.get(p, GetOption.builder().isPrefix(true).withCountOnly(true).build()),
                    Op.get(p, GetOption.builder().isPrefix(true).withKeysOnly(true).withMinModRevision(kept.revision() + 1).build()))
                    .commit(), "list " + kind.name()));
            if (check.getGetResponses().get(0).getCount() == kept.specs().size() && check.getGetResponses().get(1).getKvs().isEmpty()) {
                return castAll(kind, kept.specs());
            }
        }
        var response = seen(await(kv.get(p, GetOption.builder().isPrefix(true).build()), "list " + kind.name()));
        List<Versioned<T>> out = new ArrayList<>(response.getKvs().size());
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (KeyValue each : response.getKvs()) {
            seen.add(each.getKey().toString(UTF_8));
            out.add(decode(kind, each));
        }
        decoded.keySet().removeIf(k -> k.startsWith(kindPrefix) && !seen.contains(k));
        listings.put(kind.name(), new Listing(response.getHeader().getRevision(), List.copyOf(out)));
        return out;
    }

    /**
     * The specs of the field's kind whose field is {@code value} (a volume's replicas), as {@link #list} then a filter
     * would give them: inside a {@link #consistentRead}, from the view's index of the field, not by decoding and testing
     * every spec of the kind (at a thousand volumes the scan was a seventh of the agent's work per volume read).
     */
    public <T extends Spec> List<Versioned<T>> listWhere(SpecField<T> field, String value) {
        SpecKind<T> kind = field.kind();
        if (fromView()) {
            List<SpecView.Entry> found = view.where(field.indexName(), prefix + kind.name() + "/",
                    entry -> field.of().apply(decode(kind, entry).spec()), value);
            if (found != null) {
                List<Versioned<T>> out = new ArrayList<>(found.size());
                found.forEach(each -> out.add(decode(kind, each)));
                return out;
            }
        }
        return list(kind).stream().filter(v -> value.equals(field.of().apply(v.spec()))).toList();
    }

    /** A kind's whole listing and the store revision it was read at. */
    private record Listing(long revision, List<Versioned<?>> specs) {
    }

    @SuppressWarnings("unchecked")
    private static <T extends Spec> List<Versioned<T>> castAll(SpecKind<T> kind, List<Versioned<?>> specs) {
        List<Versioned<T>> out = new ArrayList<>(specs.size());
        for (Versioned<?> v : specs) {
            out.add((Versioned<T>) v);
        }
        return out;
    }

    /** Raw listing for the spec API: kind name, JSON and revision of every spec of the kinds given. */
    public List<RawSpec> listRaw(List<SpecKind<?>> kinds) {
        List<RawSpec> out = new ArrayList<>();
        for (SpecKind<?> kind : kinds) {
            for (Versioned<?> v : list(kind)) {
                out.add(new RawSpec(kind.name(), v.spec().id(), v.spec().operation(),
                        json.writeValueAsString(v.spec()), v.modRevision()));
            }
        }
        return out;
    }

    public record RawSpec(String kind, String id, OperationStatus operation, String json, long modRevision) {}

    /** Writes a new spec; Conflict if the key exists (the caller re-reads and compares). */
    public <T extends Spec> Versioned<T> create(SpecKind<T> kind, T spec) {
        servedFromView.remove();
        ByteSequence key = key(kind, spec.id());
        TxnResponse r = commit(kind, spec.id(), new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0)),
                Op.put(key, encode(spec), PutOption.DEFAULT));
        return new Versioned<>(spec, r.getHeader().getRevision());
    }

    /** Writes several new specs in one transaction: all or none (Conflict if any key exists). */
    public <T extends Spec> List<Versioned<T>> createAll(SpecKind<T> kind, List<T> specs) {
        long revision = createTogether(specs.stream().map(spec -> new NewSpec<>(kind, spec)).toList());
        return specs.stream().map(spec -> new Versioned<>(spec, revision)).toList();
    }

    /** A spec to write where none exists yet, with its kind. */
    public record NewSpec<T extends Spec>(SpecKind<T> kind, T spec) {
    }

    /**
     * Writes new specs of any kinds in one transaction, all or none (Conflict if any key exists): one etcd round trip
     * where a resource and its parts start together. Returns the revision they were written at (0 for none).
     */
    public long createTogether(List<? extends NewSpec<?>> specs) {
        List<Cmp> conditions = new ArrayList<>();
        List<Op> puts = new ArrayList<>();
        for (NewSpec<?> n : specs) {
            ByteSequence key = key(n.kind(), n.spec().id());
            conditions.add(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0)));
            puts.add(Op.put(key, encode(n.spec()), PutOption.DEFAULT));
        }
        return commitTogether(conditions, puts, specs.stream().map(n -> n.kind().name() + " " + n.spec().id()).toList(), "one already exists");
    }

    /** A spec to replace, as read ({@code current}, whose revision must still hold) and as it is to be. */
    public record Change<T extends Spec>(SpecKind<T> kind, Versioned<T> current, T next) {
        public Change {
            if (!current.spec().id().equals(next.id())) {
                throw new IllegalArgumentException("spec id changed: " + current.spec().id() + " -> " + next.id());
            }
        }
    }

    /**
     * Replaces several specs of any kinds in one transaction, all or none (Conflict if any moved since it was read): one
     * etcd write, one disk sync, where a resource and its parts finish together. Returns the revision they were written at.
     */
    public long updateTogether(List<? extends Change<?>> changes) {
        List<Cmp> conditions = new ArrayList<>();
        List<Op> puts = new ArrayList<>();
        for (Change<?> c : changes) {
            ByteSequence key = key(c.kind(), c.next().id());
            conditions.add(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(c.current().modRevision())));
            puts.add(Op.put(key, encode(c.next()), PutOption.DEFAULT));
        }
        return commitTogether(conditions, puts, changes.stream().map(c -> c.kind().name() + " " + c.next().id()).toList(), "changed since read");
    }

    /**
     * One transaction of several specs' writes under their conditions and the leader fence; the revision written at
     * (0 for none). Unavailable when the fence failed, else Conflict saying {@code why}.
     */
    private long commitTogether(List<Cmp> conditions, List<Op> puts, List<String> specs, String why) {
        servedFromView.remove();
        if (puts.isEmpty()) {
            return 0;
        }
        Optional<Cmp> fenceCondition = fence.condition();
        fenceCondition.ifPresent(conditions::add);
        String ids = specs.toString();
        TxnResponse r = seen(await(kv.txn().If(conditions.toArray(Cmp[]::new)).Then(puts.toArray(Op[]::new)).commit(), "write " + ids));
        if (!r.isSucceeded()) {
            if (fenceCondition.isPresent() && !fenceHolds(fenceCondition.get())) {
                throw new CoreException.Unavailable(ids + ": this agent is no longer the leader");
            }
            throw new CoreException.Conflict(ids + ": " + why);
        }
        return r.getHeader().getRevision();
    }

    /** Replaces the spec if it is still at {@code current}'s revision. */
    public <T extends Spec> Versioned<T> update(SpecKind<T> kind, Versioned<T> current, T next) {
        servedFromView.remove();
        if (!current.spec().id().equals(next.id())) {
            throw new IllegalArgumentException("spec id changed: " + current.spec().id() + " -> " + next.id());
        }
        ByteSequence key = key(kind, next.id());
        TxnResponse r = commit(kind, next.id(), new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(current.modRevision())),
                Op.put(key, encode(next), PutOption.DEFAULT));
        return new Versioned<>(next, r.getHeader().getRevision());
    }

    /** Removes the spec if it is still at {@code current}'s revision. */
    public <T extends Spec> void delete(SpecKind<T> kind, Versioned<T> current) {
        servedFromView.remove();
        ByteSequence key = key(kind, current.spec().id());
        commit(kind, current.spec().id(), new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(current.modRevision())),
                Op.delete(key, DeleteOption.DEFAULT));
    }

    private TxnResponse commit(SpecKind<?> kind, String id, Cmp revisionCheck, Op op) {
        Optional<Cmp> fenceCondition = fence.condition();
        Txn txn = kv.txn();
        if (fenceCondition.isPresent()) {
            txn = txn.If(revisionCheck, fenceCondition.get());
        } else {
            txn = txn.If(revisionCheck);
        }
        TxnResponse r = seen(await(txn.Then(op).commit(), "write " + kind.name() + " " + id));
        if (!r.isSucceeded()) {
            // Tell a lost leadership apart from a concurrent change: they need different reactions.
            if (fenceCondition.isPresent() && !fenceHolds(fenceCondition.get())) {
                throw new CoreException.Unavailable(kind.name() + " " + id + ": this agent is no longer the leader");
            }
            log.info("spec write lost a race kind={} id={}", kind.name(), id);
            throw new CoreException.Conflict(kind.name() + " " + id + ": changed concurrently (revision moved); re-read and retry");
        }
        return r;
    }

    private boolean fenceHolds(Cmp condition) {
        TxnResponse r = await(kv.txn().If(condition).commit(), "check leadership");
        return r.isSucceeded();
    }

    private <T> T await(CompletableFuture<T> future, String what) {
        try {
            return future.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CoreException.Unavailable("etcd: interrupted during " + what, e);
        } catch (ExecutionException | TimeoutException e) {
            future.cancel(true);
            throw new CoreException.Unavailable("etcd: cannot " + what + ": " + e.getMessage(), e);
        }
    }

    private ByteSequence key(SpecKind<?> kind, String id) {
        return bytes(prefix + kind.name() + "/" + id);
    }

    private ByteSequence encode(Spec spec) {
        return ByteSequence.from(json.writeValueAsBytes(spec));
    }

    @SuppressWarnings("unchecked")
    private <T extends Spec> Versioned<T> decode(SpecKind<T> kind, SpecView.Entry entry) {
        Versioned<?> done = entry.decoded;
        if (done != null && kind.type().isInstance(done.spec())) {
            return (Versioned<T>) done;
        }
        Versioned<T> fresh = decode(kind, entry.keyValue);
        entry.decoded = fresh;
        return fresh;
    }

    @SuppressWarnings("unchecked")
    private <T extends Spec> Versioned<T> decode(SpecKind<T> kind, KeyValue each) {
        String key = each.getKey().toString(UTF_8);
        Versioned<?> cached = decoded.get(key);
        if (cached != null && cached.modRevision() == each.getModRevision() && kind.type().isInstance(cached.spec())) {
            return (Versioned<T>) cached;
        }
        Versioned<T> fresh = new Versioned<>(json.readValue(each.getValue().getBytes(), kind.type()), each.getModRevision());
        decoded.put(key, fresh);
        return fresh;
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, UTF_8);
    }
}
