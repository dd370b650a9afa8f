package io.javastor.core.events;

import java.time.Instant;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.api.ioengine.v1.RebuildState;
import io.javastor.api.ioengine.v1.RebuildStats;
import io.javastor.core.operation.CoreException;

/**
 * The rebuilds each volume's targets ran, in the agent's database (PostgreSQL, or embedded H2): an io-engine keeps
 * only its last few in memory and loses them when it restarts, while the history is asked for after the fact, also
 * when the target's node is down.
 */
public class RebuildHistoryStore {

    private static final Logger log = LoggerFactory.getLogger(RebuildHistoryStore.class);

    private final RebuildRecordRepository repository;
    private final String agentId;

    public RebuildHistoryStore(RebuildRecordRepository repository, String agentId) {
        this.repository = repository;
        this.agentId = agentId;
    }

    /**
     * Stores the finished rebuilds among {@code records} (as the target on {@code nodeId} lists them) that are not
     * stored yet; running ones are left for a later read. Returns how many were new.
     */
    public int recordFinished(String volumeId, String nodeId, List<RebuildStats> records) {
        int added = 0;
        try {
            for (RebuildStats s : records) {
                if (s.getEndUnixMs() == 0 || s.getState() == RebuildState.REBUILD_STATE_RUNNING || s.getState() == RebuildState.REBUILD_STATE_PAUSED) {
                    continue;
                }
                Instant start = Instant.ofEpochMilli(s.getStartUnixMs());
                if (repository.existsByVolumeIdAndChildUriAndStartedAt(volumeId, s.getChildUri(), start)) {
                    continue;
                }
                repository.save(new RebuildRecordRow(volumeId, nodeId, s.getChildUri(), s.getSourceUri(), stateName(s.getState()), s.getPartial(),
                        s.getBlocksTotal(), s.getBlocksRecovered(), s.getBlockSize(), start, Instant.ofEpochMilli(s.getEndUnixMs()), s.getReason(),
                        agentId));
                log.info("rebuild recorded volumeId={} nodeId={} child={} state={} partial={} blocks={}/{}", volumeId, nodeId, s.getChildUri(),
                        stateName(s.getState()), s.getPartial(), s.getBlocksRecovered(), s.getBlocksTotal());
                added++;
            }
        } catch (org.springframework.dao.DataAccessException e) {
            throw new CoreException.Unavailable("rebuild history of volume " + volumeId + ": database unavailable: " + e.getMessage(), e);
        }
        return added;
    }

    /** Whether a rebuild of the child that ended at or after {@code since} is stored. */
    public boolean endedSince(String volumeId, String childUri, Instant since) {
        return of(volumeId).stream().anyMatch(s -> s.getChildUri().equals(childUri) && s.getEndUnixMs() >= since.toEpochMilli());
    }

    /** The volume's stored rebuilds, oldest first, in the io-engine's shape. */
    public List<RebuildStats> of(String volumeId) {
        try {
            return repository.findByVolumeIdOrderByStartedAtAscIdAsc(volumeId).stream().map(r -> RebuildStats.newBuilder().setNexusUuid(volumeId)
                    .setChildUri(r.getChildUri()).setSourceUri(r.getSourceUri()).setState(RebuildState.valueOf("REBUILD_STATE_" + r.getState()))
                    .setPartial(r.isPartial()).setBlocksTotal(r.getBlocksTotal()).setBlocksRecovered(r.getBlocksRecovered())
                    .setProgressPercent(r.getBlocksTotal() == 0 ? 100 : (int) (r.getBlocksRecovered() * 100 / r.getBlocksTotal()))
                    .setBlockSize(r.getBlockSize()).setStartUnixMs(r.getStartedAt().toEpochMilli()).setEndUnixMs(r.getEndedAt().toEpochMilli())
                    .setReason(r.getReason()).build()).toList();
        } catch (org.springframework.dao.DataAccessException e) {
            throw new CoreException.Unavailable("rebuild history of volume " + volumeId + ": database unavailable: " + e.getMessage(), e);
        }
    }

    private static String stateName(RebuildState s) {
        return s.name().substring("REBUILD_STATE_".length());
    }
}
