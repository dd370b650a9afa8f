package io.javastor.csi.support;

import csi.v1.Csi.VolumeCapability;

public final class Caps {
    private Caps() {
    }

    public static VolumeCapability mount(String fs, VolumeCapability.AccessMode.Mode mode) {
        return VolumeCapability.newBuilder().setMount(VolumeCapability.MountVolume.newBuilder().setFsType(fs))
                .setAccessMode(VolumeCapability.AccessMode.newBuilder().setMode(mode)).build();
    }

    public static VolumeCapability mount(String fs) {
        return mount(fs, VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER);
    }

    public static VolumeCapability block(VolumeCapability.AccessMode.Mode mode) {
        return VolumeCapability.newBuilder().setBlock(VolumeCapability.BlockVolume.getDefaultInstance())
                .setAccessMode(VolumeCapability.AccessMode.newBuilder().setMode(mode)).build();
    }

    public static VolumeCapability block() {
        return block(VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER);
    }
}
