package io.javastor.core.events;

import java.time.Instant;
import java.util.List;

import org.springframework.data.jpa.repository.JpaRepository;

public interface RebuildRecordRepository extends JpaRepository<RebuildRecordRow, Long> {

    List<RebuildRecordRow> findByVolumeIdOrderByStartedAtAscIdAsc(String volumeId);

    boolean existsByVolumeIdAndChildUriAndStartedAt(String volumeId, String childUri, Instant startedAt);
}
