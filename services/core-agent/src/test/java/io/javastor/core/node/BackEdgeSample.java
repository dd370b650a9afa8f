package io.javastor.core.node;

import io.javastor.core.store.SpecKind;
import io.javastor.core.volume.VolumeSpec;

/**
 * A node class that reads a volume's spec kind: the back-edge {@code PackageLayersTest} must catch, to show its rule
 * can fail. Only that test imports it; the layering checks of the agent itself read main classes alone.
 */
public final class BackEdgeSample {

    public static final SpecKind<VolumeSpec> VOLUMES = VolumeSpec.KIND;

    private BackEdgeSample() {
    }
}
