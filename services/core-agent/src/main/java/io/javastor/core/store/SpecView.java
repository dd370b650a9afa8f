package io.javastor.core.store;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;

/**
 * The agent's copy of its cluster's keys in etcd, kept current by one watch: the specs' key-values, and the store
 * revision up to which the copy is complete. The watch covers the whole cluster prefix (specs, the leader key, the
 * link secret's key: all rarely written), so that revision follows etcd's own; a write elsewhere in etcd is covered by
 * a progress request, whose answer moves the revision on. A copy that lost its watch (etcd compacted past it, the
 * connection gave up) is unusable until reloaded and says so: readers then go to etcd.
 */
final class SpecView implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SpecView.class);
    private static final long RELOAD_DELAY_MS = 1000;

    private final KV kv;
    private final Watch watch;
    private final ByteSequence clusterPrefix;
    private final String specsPrefix;
    private final Consumer<String> onDelete;
    /**
     * The copy and its field indexes. A reload replaces both at once instead of emptying and refilling them, so that a
     * reader still at work on the copy it was given (its revision checked before a lost watch) sees it whole.
     */
    private volatile Copy copy = new Copy();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition moved = lock.newCondition();
    private final ScheduledExecutorService reloads = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "spec-view-reload");
        t.setDaemon(true);
        return t;
    });
    /** The store revision the copy is complete up to; -1 while unusable. Written under {@link #lock}. */
    private volatile long revision = -1;
    /**
     * Odd while a watch answer is being applied (under {@link #lock}): the copy then holds parts of a revision that
     * {@link #revision} does not name yet.
     */
    private volatile long applying;
    private Watch.Watcher watcher;
    private boolean closed;

    SpecView(KV kv, Watch watch, String clusterPrefix, String specsPrefix, Consumer<String> onDelete) {
        this.kv = kv;
        this.watch = watch;
        this.clusterPrefix = ByteSequence.from(clusterPrefix, UTF_8);
        this.specsPrefix = specsPrefix;
        this.onDelete = onDelete;
        reloads.execute(this::load);
    }

    /** The revision the copy is complete up to, or -1 when it is unusable (loading, or lost its watch). */
    long revision() {
        return revision;
    }

    /**
     * As {@link #revision()}, but -1 also while a change is being applied: the copy then may show parts of the next
     * revision. A reader that found a revision here sees every change up to it, and no change it does not name had
     * begun when it looked.
     */
    long settledRevision() {
        long a = applying;
        long r = revision;
        return (a & 1) == 0 ? r : -1;
    }

    /**
     * Waits until the copy is complete up to {@code atLeast}, asking etcd for a progress notice when only writes
     * outside the watched prefix stand between; false when that does not happen in {@code timeoutMillis}.
     */
    boolean awaitRevision(long atLeast, long timeoutMillis) throws InterruptedException {
        long r = revision;
        if (r >= atLeast) {
            return true;
        }
        if (r < 0) {
            return false;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        boolean askedProgress = false;
        lock.lock();
        try {
            while (revision >= 0 && revision < atLeast) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                if (!askedProgress && watcher != null) {
                    watcher.requestProgress(); // the answer carries etcd's revision once every event before it was sent
                    askedProgress = true;
                }
                moved.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(2)));
            }
            return revision >= atLeast;
        } finally {
            lock.unlock();
        }
    }

    /** The specs by key, and field indexes by {@link SpecField#indexName}, each built on its first use and then kept. */
    private record Copy(ConcurrentSkipListMap<String, Entry> specs, ConcurrentHashMap<String, FieldIndex> indexes) {
        Copy() {
            this(new ConcurrentSkipListMap<>(), new ConcurrentHashMap<>());
        }

        Collection<Entry> range(String prefix) {
            return specs.subMap(prefix, true, prefix + Character.MAX_VALUE, false).values();
        }
    }

    /**
     * One spec's key-value as the watch last delivered it, with the spec decoded from it once by the first reader
     * (a volume's view scans every replica spec: decoding, or even looking up a cache, per read was the agent's cost).
     */
    static final class Entry {
        final KeyValue keyValue;
        volatile Versioned<?> decoded;

        Entry(KeyValue keyValue) {
            this.keyValue = keyValue;
        }
    }

    Optional<Entry> get(String key) {
        return Optional.ofNullable(copy.specs().get(key));
    }

    /** The entries under {@code prefix}, in key order (etcd's for our ASCII keys). */
    Collection<Entry> range(String prefix) {
        return copy.range(prefix);
    }

    /**
     * The entries under {@code kindPrefix} whose field (read by {@code valueOf}) is {@code value}, in key order, from the
     * field's index; null when some spec of the kind cannot be read (the caller scans, and reports it as any read would).
     */
    List<Entry> where(String indexName, String kindPrefix, Function<Entry, String> valueOf, String value) {
        Copy c = copy;
        FieldIndex index = c.indexes().get(indexName);
        if (index == null) {
            lock.lock();
            try {
                c = copy; // the index is built from, and kept with, the copy of the moment
                index = c.indexes().get(indexName);
                if (index == null) {
                    index = new FieldIndex(kindPrefix, valueOf, c);
                    c.indexes().put(indexName, index);
                }
            } finally {
                lock.unlock();
            }
        }
        if (!index.unreadable.isEmpty()) {
            return null;
        }
        Set<String> keys = index.keysByValue.get(value);
        if (keys == null) {
            return List.of();
        }
        List<Entry> found = new java.util.ArrayList<>(keys.size());
        for (String key : keys) {
            Entry entry = c.specs().get(key);
            try {
                // A change newer than the reader's revision may be half-way through the index: check the entry itself.
                if (entry != null && value.equals(valueOf.apply(entry))) {
                    found.add(entry);
                }
            } catch (RuntimeException e) {
                return null;
            }
        }
        return found;
    }

    /**
     * Keys of one kind by the value of one field. Changed only under {@link #lock}, with the copy itself, so a reader
     * that waited for a revision finds every spec of that revision under its value.
     */
    private final class FieldIndex {
        final String kindPrefix;
        final Function<Entry, String> valueOf;
        final Map<String, Set<String>> keysByValue = new ConcurrentHashMap<>();
        final Map<String, String> valueByKey = new HashMap<>();
        final Set<String> unreadable = ConcurrentHashMap.newKeySet();

        /** Built from the copy as it is; called with the lock held. */
        FieldIndex(String kindPrefix, Function<Entry, String> valueOf, Copy of) {
            this.kindPrefix = kindPrefix;
            this.valueOf = valueOf;
            of.range(kindPrefix).forEach(this::put);
        }

        /**
         * Readers do not take the lock: a key whose value is unchanged never leaves its set, and a moved key joins its
         * new set before it leaves the old one, so no reader misses a spec that exists before and after the change.
         */
        void put(Entry entry) {
            String key = entry.keyValue.getKey().toString(UTF_8);
            String value;
            try {
                value = valueOf.apply(entry);
            } catch (RuntimeException e) {
                remove(key);
                unreadable.add(key);
                return;
            }
            unreadable.remove(key);
            String old = valueByKey.put(key, value);
            if (value.equals(old)) {
                return;
            }
            keysByValue.computeIfAbsent(value, v -> new ConcurrentSkipListSet<>()).add(key);
            if (old != null) {
                leave(old, key);
            }
        }

        void remove(String key) {
            unreadable.remove(key);
            String old = valueByKey.remove(key);
            if (old != null) {
                leave(old, key);
            }
        }

        private void leave(String value, String key) {
            Set<String> keys = keysByValue.get(value);
            keys.remove(key);
            if (keys.isEmpty()) {
                keysByValue.remove(value);
            }
        }
    }

    /** Keeps the field indexes with a change of the copy; called with the lock held. */
    private void indexPut(String key, Entry entry) {
        for (FieldIndex index : copy.indexes().values()) {
            if (key.startsWith(index.kindPrefix)) {
                index.put(entry);
            }
        }
    }

    private void indexRemove(String key) {
        for (FieldIndex index : copy.indexes().values()) {
            if (key.startsWith(index.kindPrefix)) {
                index.remove(key);
            }
        }
    }

    private void load() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
        } finally {
            lock.unlock();
        }
        kv.get(clusterPrefix, GetOption.builder().isPrefix(true).build()).whenComplete((response, failure) -> {
            if (failure != null) {
                lost("load", failure);
                return;
            }
            lock.lock();
            try {
                if (closed || revision >= 0) {
                    return; // closed, or another load (two losses before a reload) already made the copy current
                }
                Copy loaded = new Copy(); // its indexes are built on their next use
                for (KeyValue each : response.getKvs()) {
                    String key = each.getKey().toString(UTF_8);
                    if (key.startsWith(specsPrefix)) {
                        loaded.specs().put(key, new Entry(each));
                    }
                }
                copy = loaded;
                long loadedAt = response.getHeader().getRevision();
                watcher = watch.watch(clusterPrefix, WatchOption.builder().isPrefix(true).withRevision(loadedAt + 1).build(),
                        Watch.listener(this::apply, e -> lost("watch", e)));
                revision = loadedAt;
                moved.signalAll();
                log.info("spec view loaded specs={} revision={}", loaded.specs().size(), loadedAt);
            } finally {
                lock.unlock();
            }
        });
    }

    private void apply(WatchResponse response) {
        lock.lock();
        try {
            if (revision < 0) {
                return; // a late answer of a watch already given up
            }
            applying++; // odd: the copy changes before the revision names it
            long upTo = revision;
            for (WatchEvent e : response.getEvents()) {
                KeyValue each = e.getKeyValue();
                String key = each.getKey().toString(UTF_8);
                if (key.startsWith(specsPrefix)) {
                    if (e.getEventType() == WatchEvent.EventType.DELETE) {
                        copy.specs().remove(key);
                        indexRemove(key);
                        onDelete.accept(key);
                    } else if (e.getEventType() == WatchEvent.EventType.PUT) {
                        Entry entry = new Entry(each);
                        copy.specs().put(key, entry);
                        indexPut(key, entry);
                    }
                }
                upTo = Math.max(upTo, each.getModRevision());
            }
            if (response.isProgressNotify()) {
                upTo = Math.max(upTo, response.getHeader().getRevision());
            }
            revision = upTo;
            moved.signalAll();
        } catch (RuntimeException | Error e) {
            // Part of the answer may be in the copy and the revision does not name it: the copy is no longer one revision.
            lost("watch answer's apply", e);
            throw e;
        } finally {
            if ((applying & 1) != 0) {
                applying++;
            }
            lock.unlock();
        }
    }

    /** The watch or the load failed: readers go to etcd until a reload (package-private: tests simulate a loss). */
    void lost(String what, Throwable why) {
        lock.lock();
        try {
            revision = -1;
            moved.signalAll();
            if (watcher != null) {
                watcher.close();
                watcher = null;
            }
            if (closed) {
                return;
            }
            log.warn("spec view lost its {} ({}); readers go to etcd until it is reloaded in {} ms", what, why.toString(), RELOAD_DELAY_MS);
            reloads.schedule(this::load, RELOAD_DELAY_MS, TimeUnit.MILLISECONDS);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            revision = -1;
            if (watcher != null) {
                watcher.close();
                watcher = null;
            }
        } finally {
            lock.unlock();
        }
        reloads.shutdownNow();
    }
}
