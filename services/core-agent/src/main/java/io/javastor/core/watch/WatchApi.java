package io.javastor.core.watch;

import org.springframework.stereotype.Service;

import io.grpc.stub.StreamObserver;
import io.javastor.api.core.v1.CreateVolumeWatchRequest;
import io.javastor.api.core.v1.DeleteVolumeWatchRequest;
import io.javastor.api.core.v1.DeleteVolumeWatchResponse;
import io.javastor.api.core.v1.ListVolumeWatchesRequest;
import io.javastor.api.core.v1.ListVolumeWatchesResponse;
import io.javastor.api.core.v1.VolumeWatch;
import io.javastor.api.core.v1.WatchServiceGrpc;

@Service
public class WatchApi extends WatchServiceGrpc.WatchServiceImplBase {

    private final VolumeWatches watches;

    public WatchApi(VolumeWatches watches) {
        this.watches = watches;
    }

    @Override
    public void createVolumeWatch(CreateVolumeWatchRequest r, StreamObserver<VolumeWatch> response) {
        reply(response, toProto(watches.create(r.getVolumeUuid(), r.getCallback())));
    }

    @Override
    public void deleteVolumeWatch(DeleteVolumeWatchRequest r, StreamObserver<DeleteVolumeWatchResponse> response) {
        watches.delete(r.getVolumeUuid(), r.getCallback());
        reply(response, DeleteVolumeWatchResponse.getDefaultInstance());
    }

    @Override
    public void listVolumeWatches(ListVolumeWatchesRequest r, StreamObserver<ListVolumeWatchesResponse> response) {
        ListVolumeWatchesResponse.Builder out = ListVolumeWatchesResponse.newBuilder();
        watches.of(r.getVolumeUuid()).forEach(w -> out.addWatches(toProto(w)));
        reply(response, out.build());
    }

    private static VolumeWatch toProto(WatchSpec w) {
        return VolumeWatch.newBuilder().setVolumeUuid(w.volumeUuid()).setCallback(w.callback()).build();
    }

    private static <T> void reply(StreamObserver<T> response, T value) {
        response.onNext(value);
        response.onCompleted();
    }
}
