package io.javastor.core.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.data.domain.Page;
import org.springframework.jdbc.core.JdbcTemplate;

import io.javastor.api.core.v1.EventServiceGrpc;
import io.javastor.api.core.v1.ListEventsRequest;
import io.javastor.api.core.v1.ListEventsResponse;
import io.javastor.core.api.ProtoMapping;
import io.javastor.core.leader.LeaderElection;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.core.testsupport.PostgresExtension;
import io.javastor.core.testsupport.RunningAgent;

/** The event history on a real PostgreSQL: migration, queries by resource, kind and time with paging, retention. */
class EventHistoryPostgresTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    private static RunningAgent agent;
    /** Fixture days run from 25 days ago into the future, so the 30-day retention test leaves them all. */
    private static final Instant T0 = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.DAYS).minus(Duration.ofDays(25));

    @BeforeAll
    static void start() {
        agent = RunningAgent.start(etcd.endpoint(), "events-pg", "agent-pg", Map.of(
                "spring.datasource.url", postgres.jdbcUrl(),
                "spring.datasource.username", postgres.username()));
        await().atMost(Duration.ofSeconds(10)).until(() -> agent.bean(LeaderElection.class).isLeader());
        EventRecordRepository repository = agent.bean(EventRecordRepository.class);
        // 30 events over 30 days: vol-1 gets even days, vol-2 odd days; every third one a warning kind.
        for (int day = 0; day < 30; day++) {
            String resource = day % 2 == 0 ? "vol-1" : "vol-2";
            String kind = day % 3 == 0 ? "ReplicaFaulted" : "VolumeCreated";
            repository.save(new EventRecord(T0.plus(Duration.ofDays(day)), "volume", resource, kind,
                    day % 3 == 0 ? Severity.WARNING : Severity.INFO, "day " + day, "agent-pg"));
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    @Test
    void flywayMigratedPostgres() {
        JdbcTemplate jdbc = agent.bean(JdbcTemplate.class);
        assertThat(jdbc.queryForObject("select version()", String.class)).startsWith("PostgreSQL");
        assertThat(jdbc.queryForObject("select count(*) from flyway_schema_history where version = '1' and success", Integer.class))
                .isEqualTo(1);
    }

    @Test
    void queriesByResourceKindAndTimeWithPaging() {
        EventHistory history = agent.bean(EventHistory.class);
        Instant end = T0.plus(Duration.ofDays(30));
        Page<EventRecord> first = history.search(new EventQuery("vol-1", null, T0, end, 0, 4));
        assertThat(first.getTotalElements()).isEqualTo(15);
        assertThat(first.getTotalPages()).isEqualTo(4);
        assertThat(first.getContent()).extracting(EventRecord::getMessage).containsExactly("day 28", "day 26", "day 24", "day 22");
        Page<EventRecord> last = history.search(new EventQuery("vol-1", null, T0, end, 3, 4));
        assertThat(last.getContent()).extracting(EventRecord::getMessage).containsExactly("day 4", "day 2", "day 0");

        Page<EventRecord> faults = history.search(new EventQuery(null, "ReplicaFaulted", T0, end, 0, 50));
        assertThat(faults.getContent()).extracting(EventRecord::getMessage)
                .containsExactly("day 27", "day 24", "day 21", "day 18", "day 15", "day 12", "day 9", "day 6", "day 3", "day 0");

        // Days 10..19 (to is exclusive), vol-2 only: 11, 13, 15, 17, 19.
        Page<EventRecord> window = history.search(new EventQuery("vol-2", null, T0.plus(Duration.ofDays(10)),
                T0.plus(Duration.ofDays(20)), 0, 50));
        assertThat(window.getContent()).extracting(EventRecord::getMessage).containsExactly("day 19", "day 17", "day 15", "day 13", "day 11");

        // The same through the gRPC API.
        ListEventsResponse viaApi = EventServiceGrpc.newBlockingStub(agent.channel()).listEvents(ListEventsRequest.newBuilder()
                .setResourceId("vol-2").setKind("ReplicaFaulted").setFrom(ProtoMapping.timestamp(T0))
                .setTo(ProtoMapping.timestamp(end)).setPage(1).setPageSize(2).build());
        assertThat(viaApi.getTotal()).isEqualTo(5); // days 3, 9, 15, 21, 27
        assertThat(viaApi.getEventsList()).extracting(e -> e.getMessage()).containsExactly("day 15", "day 9");
    }

    @Test
    void retentionDeletesOnlyOlderEvents() {
        EventRecordRepository repository = agent.bean(EventRecordRepository.class);
        Instant now = Instant.now();
        repository.save(new EventRecord(now.minus(Duration.ofDays(40)), "node", "retention-node", "NodeOffline", Severity.WARNING, "old", "agent-pg"));
        repository.save(new EventRecord(now.minus(Duration.ofDays(1)), "node", "retention-node", "NodeOnline", Severity.INFO, "recent", "agent-pg"));
        EventHistory history = agent.bean(EventHistory.class);
        long before = repository.count();
        int deleted = history.purgeOlderThan(Duration.ofDays(30));
        assertThat(deleted).isEqualTo(1);
        assertThat(repository.count()).isEqualTo(before - deleted);
        assertThat(history.search(new EventQuery("retention-node", null, null, null, 0, 10)).getContent())
                .extracting(EventRecord::getMessage).containsExactly("recent");
        assertThat(repository.findAll()).allSatisfy(e -> assertThat(e.getOccurredAt()).isAfter(now.minus(Duration.ofDays(30))))
                .hasSizeGreaterThanOrEqualTo(31);
    }
}
