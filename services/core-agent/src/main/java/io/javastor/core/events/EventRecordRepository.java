package io.javastor.core.events;

import java.time.Instant;

import org.springframework.data.domain.Page;
import org.springframework.data.domain.Pageable;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Modifying;
import org.springframework.data.jpa.repository.Query;
import org.springframework.data.repository.query.Param;
import org.springframework.transaction.annotation.Transactional;

public interface EventRecordRepository extends JpaRepository<EventRecord, Long> {

    /** Every filter may be null (= any). */
    @Query("""
            select e from EventRecord e
            where (:resourceId is null or e.resourceId = :resourceId)
              and (:kind is null or e.kind = :kind)
              and e.occurredAt >= :fromTime and e.occurredAt < :toTime
            """)
    Page<EventRecord> search(@Param("resourceId") String resourceId, @Param("kind") String kind,
                             @Param("fromTime") Instant from, @Param("toTime") Instant to, Pageable page);

    @Modifying
    @Transactional
    @Query("delete from EventRecord e where e.occurredAt < :cutoff")
    int deleteOlderThan(@Param("cutoff") Instant cutoff);
}
