package io.javastor.deploy;

/** A values file far from the defaults, shared by the tests that check every rendered object (FabricModelTest, the smoke test). */
final class NonDefaultValues {
    private NonDefaultValues() {
    }

    /** Every optional object on (ingress, monitoring, snapshot class, PDBs), other ports, replicas and hugepages. */
    static final String EVERYTHING_ON = """
            image: {registry: registry.example.com/storage, tag: 1.2.3}
            coreAgent: {replicas: 3, extraConfig: {logging: {level: {io.javastor: DEBUG}}}}
            restGateway:
              replicas: 4
              ingress:
                enabled: true
                className: nginx
                host: storage.example.com
                tls: [{secretName: storage-tls, hosts: [storage.example.com]}]
            csi: {controller: {replicas: 1, metricsPort: 9950}, node: {metricsPort: 9951}}
            etcd: {replicas: 5, persistence: {enabled: false}}
            ioEngine:
              hugepages: {enabled: true, size: 2Mi, amount: 2Gi}
              resources: {requests: {cpu: "4", memory: 2Gi}, limits: {cpu: "4", memory: 2Gi}}
            metrics:
              serviceMonitor: {enabled: true, labels: {release: prometheus}}
              prometheusRule: {enabled: true}
              grafanaDashboard: {enabled: true}
            volumeSnapshotClass: {create: "true", isDefault: true}
            storageClass: {replicas: 2, isDefault: true, thin: true, extraParameters: {ioTimeout: "30"}}
            """;
}
