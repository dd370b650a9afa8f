package io.javastor.core.events;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.domain.Page;
import org.springframework.data.domain.PageRequest;
import org.springframework.data.domain.Sort;

import io.javastor.core.operation.CoreException;

/** Records and searches the event history (PostgreSQL, or embedded H2 when no database is configured). */
public class EventHistory {

    private static final Logger log = LoggerFactory.getLogger(EventHistory.class);

    private final EventRecordRepository repository;
    private final String agentId;
    private final Clock clock;

    public EventHistory(EventRecordRepository repository, String agentId, Clock clock) {
        this.repository = repository;
        this.agentId = agentId;
        this.clock = clock;
    }

    public void record(String resourceKind, String resourceId, String kind, Severity severity, String message) {
        log.info("event resourceKind={} resourceId={} kind={} severity={}: {}", resourceKind, resourceId, kind, severity, message);
        try {
            repository.save(new EventRecord(clock.instant(), resourceKind, resourceId, kind, severity, message, agentId));
        } catch (org.springframework.dao.DataAccessException e) {
            // The history is a record of what happened, not part of it: a database outage must not fail
            // (or half-apply) a storage operation. The log line above keeps the event.
            log.error("event not stored resourceKind={} resourceId={} kind={}: {}", resourceKind, resourceId, kind, e.getMessage());
        }
    }

    public Page<EventRecord> search(EventQuery q) {
        if (q.page() < 0) {
            throw new CoreException.InvalidArgument("page", "must not be negative");
        }
        if (q.pageSize() < 0 || q.pageSize() > EventQuery.MAX_PAGE_SIZE) {
            throw new CoreException.InvalidArgument("page_size", "must be 0.." + EventQuery.MAX_PAGE_SIZE);
        }
        Instant from = q.from() == null ? Instant.EPOCH : q.from();
        Instant to = q.to() == null ? Instant.parse("9999-01-01T00:00:00Z") : q.to();
        if (!from.isBefore(to)) {
            throw new CoreException.InvalidArgument("to", "must be after from");
        }
        int size = q.pageSize() == 0 ? EventQuery.DEFAULT_PAGE_SIZE : q.pageSize();
        PageRequest page = PageRequest.of(q.page(), size, Sort.by(Sort.Order.desc("occurredAt"), Sort.Order.desc("id")));
        return repository.search(blankToNull(q.resourceId()), blankToNull(q.kind()), from, to, page);
    }

    /** Deletes events older than {@code retention}; returns how many. */
    public int purgeOlderThan(Duration retention) {
        int n = repository.deleteOlderThan(clock.instant().minus(retention));
        if (n > 0) {
            log.info("event retention deleted {} events older than {}", n, retention);
        }
        return n;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
