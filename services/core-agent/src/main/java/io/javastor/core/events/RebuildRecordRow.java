package io.javastor.core.events;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** One finished rebuild of a volume's child, as the target that ran it reported it. */
@Entity
@Table(name = "rebuild_record")
public class RebuildRecordRow {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    private Long id;

    @Column(name = "volume_id", nullable = false, length = 64)
    private String volumeId;

    @Column(name = "node_id", nullable = false, length = 63)
    private String nodeId;

    @Column(name = "child_uri", nullable = false, length = 512)
    private String childUri;

    @Column(name = "source_uri", nullable = false, length = 512)
    private String sourceUri;

    /** COMPLETED, FAILED or CANCELLED (the io-engine's RebuildState without its prefix). */
    @Column(name = "state", nullable = false, length = 16)
    private String state;

    @Column(name = "partial_rebuild", nullable = false)
    private boolean partial;

    @Column(name = "blocks_total", nullable = false)
    private long blocksTotal;

    @Column(name = "blocks_recovered", nullable = false)
    private long blocksRecovered;

    @Column(name = "block_size", nullable = false)
    private int blockSize;

    @Column(name = "started_at", nullable = false)
    private Instant startedAt;

    @Column(name = "ended_at", nullable = false)
    private Instant endedAt;

    @Column(name = "reason", nullable = false, length = 2000)
    private String reason;

    @Column(name = "agent_id", nullable = false, length = 128)
    private String agentId;

    protected RebuildRecordRow() {
        // for JPA
    }

    public RebuildRecordRow(String volumeId, String nodeId, String childUri, String sourceUri, String state, boolean partial,
                            long blocksTotal, long blocksRecovered, int blockSize, Instant startedAt, Instant endedAt, String reason,
                            String agentId) {
        this.volumeId = volumeId;
        this.nodeId = nodeId;
        this.childUri = childUri;
        this.sourceUri = sourceUri;
        this.state = state;
        this.partial = partial;
        this.blocksTotal = blocksTotal;
        this.blocksRecovered = blocksRecovered;
        this.blockSize = blockSize;
        this.startedAt = startedAt;
        this.endedAt = endedAt;
        this.reason = reason.length() > 2000 ? reason.substring(0, 2000) : reason;
        this.agentId = agentId;
    }

    public Long getId() { return id; }
    public String getVolumeId() { return volumeId; }
    public String getNodeId() { return nodeId; }
    public String getChildUri() { return childUri; }
    public String getSourceUri() { return sourceUri; }
    public String getState() { return state; }
    public boolean isPartial() { return partial; }
    public long getBlocksTotal() { return blocksTotal; }
    public long getBlocksRecovered() { return blocksRecovered; }
    public int getBlockSize() { return blockSize; }
    public Instant getStartedAt() { return startedAt; }
    public Instant getEndedAt() { return endedAt; }
    public String getReason() { return reason; }
    public String getAgentId() { return agentId; }
}
