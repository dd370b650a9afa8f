package io.javastor.csi.server;

import com.google.protobuf.BoolValue;
import csi.v1.Csi.GetPluginCapabilitiesRequest;
import csi.v1.Csi.GetPluginCapabilitiesResponse;
import csi.v1.Csi.GetPluginInfoRequest;
import csi.v1.Csi.GetPluginInfoResponse;
import csi.v1.Csi.PluginCapability;
import csi.v1.Csi.ProbeRequest;
import csi.v1.Csi.ProbeResponse;
import csi.v1.IdentityGrpc;
import io.grpc.stub.StreamObserver;
import io.javastor.csi.CsiProperties;

import java.util.function.BooleanSupplier;

/** CSI Identity: served in both modes. */
public class IdentityService extends IdentityGrpc.IdentityImplBase {
    private final CsiProperties props;
    private final String version;
    private final BooleanSupplier ready;

    public IdentityService(CsiProperties props, String version, BooleanSupplier ready) {
        this.props = props;
        this.version = version;
        this.ready = ready;
    }

    @Override
    public void getPluginInfo(GetPluginInfoRequest request, StreamObserver<GetPluginInfoResponse> out) {
        out.onNext(GetPluginInfoResponse.newBuilder().setName(props.getDriverName()).setVendorVersion(version)
                .putManifest("mode", props.getMode().name().toLowerCase()).build());
        out.onCompleted();
    }

    @Override
    public void getPluginCapabilities(GetPluginCapabilitiesRequest request, StreamObserver<GetPluginCapabilitiesResponse> out) {
        out.onNext(GetPluginCapabilitiesResponse.newBuilder()
                .addCapabilities(service(PluginCapability.Service.Type.CONTROLLER_SERVICE))
                .addCapabilities(service(PluginCapability.Service.Type.VOLUME_ACCESSIBILITY_CONSTRAINTS))
                .addCapabilities(PluginCapability.newBuilder().setVolumeExpansion(
                        PluginCapability.VolumeExpansion.newBuilder().setType(PluginCapability.VolumeExpansion.Type.ONLINE)))
                .build());
        out.onCompleted();
    }

    @Override
    public void probe(ProbeRequest request, StreamObserver<ProbeResponse> out) {
        out.onNext(ProbeResponse.newBuilder().setReady(BoolValue.of(ready.getAsBoolean())).build());
        out.onCompleted();
    }

    private static PluginCapability service(PluginCapability.Service.Type type) {
        return PluginCapability.newBuilder().setService(PluginCapability.Service.newBuilder().setType(type)).build();
    }
}
