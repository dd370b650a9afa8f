package io.javastor.operator.diskpool;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * The DiskPool custom resource, exactly as helm/javastor/crds/diskpools.javastor.io.yaml defines it
 * (group javastor.io, version v1beta1, namespaced). Its name is the pool's id.
 */
@Group(DiskPool.GROUP)
@Version(DiskPool.VERSION)
@Kind("DiskPool")
@Plural("diskpools")
@Singular("diskpool")
public class DiskPool extends CustomResource<DiskPoolSpec, DiskPoolStatus> implements Namespaced {
    public static final String GROUP = "javastor.io";
    public static final String VERSION = "v1beta1";
    /** Held while the pool may exist, so the resource outlives it. */
    public static final String FINALIZER = "javastor.io/pool-protection";
}
