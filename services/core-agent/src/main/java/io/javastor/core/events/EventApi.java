package io.javastor.core.events;

import org.springframework.data.domain.Page;
import org.springframework.stereotype.Service;

import io.grpc.stub.StreamObserver;
import io.javastor.api.core.v1.Event;
import io.javastor.api.core.v1.EventServiceGrpc;
import io.javastor.api.core.v1.ListEventsRequest;
import io.javastor.api.core.v1.ListEventsResponse;
import io.javastor.core.api.ProtoMapping;

@Service
public class EventApi extends EventServiceGrpc.EventServiceImplBase {

    private final EventHistory history;

    public EventApi(EventHistory history) {
        this.history = history;
    }

    @Override
    public void listEvents(ListEventsRequest r, StreamObserver<ListEventsResponse> response) {
        Page<EventRecord> page = history.search(new EventQuery(r.getResourceId(), r.getKind(),
                r.hasFrom() ? ProtoMapping.instant(r.getFrom()) : null, r.hasTo() ? ProtoMapping.instant(r.getTo()) : null,
                r.getPage(), r.getPageSize()));
        ListEventsResponse.Builder out = ListEventsResponse.newBuilder().setTotal(page.getTotalElements());
        for (EventRecord e : page.getContent()) {
            out.addEvents(Event.newBuilder().setId(e.getId()).setTime(ProtoMapping.timestamp(e.getOccurredAt()))
                    .setResourceKind(e.getResourceKind()).setResourceId(e.getResourceId()).setKind(e.getKind())
                    .setSeverity(switch (e.getSeverity()) {
                        case INFO -> io.javastor.api.core.v1.Severity.SEVERITY_INFO;
                        case WARNING -> io.javastor.api.core.v1.Severity.SEVERITY_WARNING;
                        case ERROR -> io.javastor.api.core.v1.Severity.SEVERITY_ERROR;
                    })
                    .setMessage(e.getMessage()).setAgentId(e.getAgentId()));
        }
        response.onNext(out.build());
        response.onCompleted();
    }
}
