package io.javastor.gateway.snapshot;

import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import io.javastor.api.core.v1.CreateSnapshotRequest;
import io.javastor.api.core.v1.CreateVolumeFromSnapshotRequest;
import io.javastor.api.core.v1.DestroySnapshotRequest;
import io.javastor.api.core.v1.GetSnapshotRequest;
import io.javastor.api.core.v1.ListSnapshotsRequest;
import io.javastor.gateway.coreclient.CoreAgentClient;
import io.javastor.gateway.errors.ApiException;
import io.javastor.gateway.validation.InputRules;
import io.javastor.gateway.volume.CreateVolumeBody;
import io.javastor.gateway.volume.Volume;
import io.javastor.gateway.volume.VolumeController;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;

/** Mayastor's v0 snapshot paths: volume snapshots, and volumes created from them. */
@RestController
@RequestMapping("/v0")
@Tag(name = "Snapshots")
public class SnapshotController {

    private final CoreAgentClient agent;
    private final VolumeController volumes;

    public SnapshotController(CoreAgentClient agent, VolumeController volumes) {
        this.agent = agent;
        this.volumes = volumes;
    }

    @Operation(summary = "Take a snapshot of the volume, consistent across its replicas (a published volume's writes pause for it); "
            + "repeating it answers the same snapshot; the id taken by another volume's snapshot: 409; at max_snapshots: 412")
    @PutMapping("/volumes/{volume_id}/snapshots/{snapshot_id}")
    public VolumeSnapshot putVolumeSnapshot(@PathVariable("volume_id") String volumeId, @PathVariable("snapshot_id") String snapshotId) {
        String volume = InputRules.uuid("volume_id", volumeId);
        String snapshot = InputRules.uuid("snapshot_id", snapshotId);
        return VolumeSnapshot.from(agent.idempotent(s -> s.snapshots().createSnapshot(
                CreateSnapshotRequest.newBuilder().setVolumeId(volume).setSnapshotId(snapshot).build())));
    }

    @GetMapping("/volumes/{volume_id}/snapshots/{snapshot_id}")
    public VolumeSnapshot getVolumeSnapshot(@PathVariable("volume_id") String volumeId, @PathVariable("snapshot_id") String snapshotId) {
        return VolumeSnapshot.from(ofVolume(InputRules.uuid("volume_id", volumeId), InputRules.uuid("snapshot_id", snapshotId)));
    }

    @Operation(summary = "Delete a snapshot of the volume; a snapshot that is gone succeeds; volumes created from it keep their data")
    @DeleteMapping("/volumes/{volume_id}/snapshots/{snapshot_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delVolumeSnapshot(@PathVariable("volume_id") String volumeId, @PathVariable("snapshot_id") String snapshotId) {
        String volume = InputRules.uuid("volume_id", volumeId);
        String snapshot = InputRules.uuid("snapshot_id", snapshotId);
        try {
            ofVolume(volume, snapshot);
        } catch (RuntimeException e) {
            if (notFound(e)) {
                return; // gone already (or never this volume's)
            }
            throw e;
        }
        destroy(snapshot);
    }

    @Operation(summary = "The volume's snapshots, oldest first, in pages")
    @GetMapping("/volumes/{volume_id}/snapshots")
    public VolumeSnapshot.Page getVolumeSnapshots(@PathVariable("volume_id") String volumeId,
            @Parameter(description = "at most this many entries; 0: all") @RequestParam(name = "max_entries", required = false) Integer maxEntries,
            @Parameter(description = "the next_token of the previous page") @RequestParam(name = "starting_token", required = false) Long startingToken) {
        return page(InputRules.uuid("volume_id", volumeId), maxEntries, startingToken);
    }

    @GetMapping("/volumes/snapshots/{snapshot_id}")
    public VolumeSnapshot getVolumesSnapshot(@PathVariable("snapshot_id") String snapshotId) {
        String snapshot = InputRules.uuid("snapshot_id", snapshotId);
        return VolumeSnapshot.from(agent.idempotent(s -> s.snapshots().getSnapshot(GetSnapshotRequest.newBuilder().setSnapshotId(snapshot).build())));
    }

    @Operation(summary = "Delete a snapshot by its id; a snapshot that is gone succeeds")
    @DeleteMapping("/volumes/snapshots/{snapshot_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delSnapshot(@PathVariable("snapshot_id") String snapshotId) {
        destroy(InputRules.uuid("snapshot_id", snapshotId));
    }

    @Operation(summary = "Snapshots of every volume (or of one, or the one with an id), oldest first, in pages")
    @GetMapping("/volumes/snapshots")
    public VolumeSnapshot.Page getVolumesSnapshots(
            @Parameter(description = "only this snapshot") @RequestParam(name = "snapshot_id", required = false) String snapshotId,
            @Parameter(description = "only snapshots of this volume") @RequestParam(name = "volume_id", required = false) String volumeId,
            @Parameter(description = "at most this many entries; 0: all") @RequestParam(name = "max_entries", required = false) Integer maxEntries,
            @Parameter(description = "the next_token of the previous page") @RequestParam(name = "starting_token", required = false) Long startingToken) {
        String volume = volumeId == null ? "" : InputRules.uuid("volume_id", volumeId);
        if (snapshotId != null) {
            String snapshot = InputRules.uuid("snapshot_id", snapshotId);
            try {
                VolumeSnapshot one = volume.isEmpty() ? getVolumesSnapshot(snapshot) : getVolumeSnapshot(volume, snapshot);
                return new VolumeSnapshot.Page(java.util.List.of(one), null);
            } catch (RuntimeException e) {
                if (notFound(e)) {
                    return new VolumeSnapshot.Page(java.util.List.of(), null);
                }
                throw e;
            }
        }
        return page(volume, maxEntries, startingToken);
    }

    @Operation(summary = "Create a volume from a snapshot: thin clones of its replica snapshots, on the pools that hold them; "
            + "repeating it answers the same volume; thin must be true and replicas the snapshot's replica count")
    @PutMapping("/snapshots/{snapshot_id}/volumes/{volume_id}")
    public Volume putSnapshotVolume(@PathVariable("snapshot_id") String snapshotId, @PathVariable("volume_id") String volumeId,
            @RequestBody CreateVolumeBody body) {
        String snapshot = InputRules.uuid("snapshot_id", snapshotId);
        String volume = InputRules.uuid("volume_id", volumeId);
        InputRules.required("body", body);
        long size = InputRules.positiveSize("size", body.size());
        if (!InputRules.required("thin", body.thin())) {
            throw ApiException.unsupported("thin", "a volume created from a snapshot shares its clusters: it is thin; must be true");
        }
        var snap = agent.idempotent(s -> s.snapshots().getSnapshot(GetSnapshotRequest.newBuilder().setSnapshotId(snapshot).build()));
        int replicas = InputRules.required("replicas", body.replicas());
        if (replicas != snap.getReplicasCount()) {
            throw ApiException.invalid("replicas", "a volume created from snapshot " + snapshot + " has one replica per replica snapshot: "
                    + snap.getReplicasCount() + ", got " + replicas);
        }
        int maxSnapshots = InputRules.nonNegative("max_snapshots", body.maxSnapshots(), 0);
        CreateVolumeFromSnapshotRequest request = CreateVolumeFromSnapshotRequest.newBuilder().setSnapshotId(snapshot).setVolumeId(volume)
                .setSize(size).setMaxSnapshots(maxSnapshots).build();
        return volumes.withTarget(agent.idempotent(s -> s.snapshots().createVolumeFromSnapshot(request)));
    }

    private io.javastor.api.core.v1.VolumeSnapshot ofVolume(String volume, String snapshot) {
        var s = agent.idempotent(st -> st.snapshots().getSnapshot(GetSnapshotRequest.newBuilder().setSnapshotId(snapshot).build()));
        if (!s.getVolumeId().equals(volume)) {
            throw ApiException.notFound("snapshot " + snapshot + " of volume " + volume + " (it is a snapshot of volume " + s.getVolumeId() + ")");
        }
        return s;
    }

    /** Not found, whether the gateway (a snapshot of another volume) or the core agent says so. */
    private static boolean notFound(RuntimeException e) {
        return e instanceof ApiException a ? a.kind() == io.javastor.gateway.errors.ErrorKind.NotFound
                : e instanceof io.grpc.StatusRuntimeException s && s.getStatus().getCode() == io.grpc.Status.Code.NOT_FOUND;
    }

    private void destroy(String snapshot) {
        agent.idempotent(s -> s.snapshots().destroySnapshot(DestroySnapshotRequest.newBuilder().setSnapshotId(snapshot).build()));
    }

    private VolumeSnapshot.Page page(String volume, Integer maxEntries, Long startingToken) {
        int max = InputRules.nonNegative("max_entries", maxEntries, 0);
        if (startingToken != null && startingToken < 0) {
            throw ApiException.invalid("starting_token", "must not be negative, got " + startingToken);
        }
        long start = startingToken == null ? 0 : startingToken;
        var page = agent.idempotent(s -> s.snapshots().listSnapshots(ListSnapshotsRequest.newBuilder().setVolumeId(volume)
                .setMaxEntries(max).setStartingToken(start).build()));
        return new VolumeSnapshot.Page(page.getSnapshotsList().stream().map(VolumeSnapshot::from).toList(),
                page.hasNextToken() ? page.getNextToken() : null);
    }
}
