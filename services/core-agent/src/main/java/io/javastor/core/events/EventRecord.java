package io.javastor.core.events;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** One entry of the event history: an operation or an observed transition of a resource. */
@Entity
@Table(name = "event_record")
public class EventRecord {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    private Long id;

    @Column(name = "occurred_at", nullable = false)
    private Instant occurredAt;

    @Column(name = "resource_kind", nullable = false, length = 32)
    private String resourceKind;

    @Column(name = "resource_id", nullable = false, length = 128)
    private String resourceId;

    @Column(name = "kind", nullable = false, length = 64)
    private String kind;

    @Enumerated(EnumType.STRING)
    @Column(name = "severity", nullable = false, length = 16)
    private Severity severity;

    @Column(name = "message", nullable = false, length = 2000)
    private String message;

    @Column(name = "agent_id", nullable = false, length = 128)
    private String agentId;

    protected EventRecord() {
        // for JPA
    }

    public EventRecord(Instant occurredAt, String resourceKind, String resourceId, String kind, Severity severity,
                       String message, String agentId) {
        this.occurredAt = occurredAt;
        this.resourceKind = resourceKind;
        this.resourceId = resourceId;
        this.kind = kind;
        this.severity = severity;
        this.message = message.length() > 2000 ? message.substring(0, 2000) : message;
        this.agentId = agentId;
    }

    public Long getId() { return id; }
    public Instant getOccurredAt() { return occurredAt; }
    public String getResourceKind() { return resourceKind; }
    public String getResourceId() { return resourceId; }
    public String getKind() { return kind; }
    public Severity getSeverity() { return severity; }
    public String getMessage() { return message; }
    public String getAgentId() { return agentId; }
}
