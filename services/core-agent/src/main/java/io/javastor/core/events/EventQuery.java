package io.javastor.core.events;

import java.time.Instant;

/** A search of the event history; null filters match anything. Newest first. */
public record EventQuery(String resourceId, String kind, Instant from, Instant to, int page, int pageSize) {
    public static final int DEFAULT_PAGE_SIZE = 50;
    public static final int MAX_PAGE_SIZE = 1000;
}
