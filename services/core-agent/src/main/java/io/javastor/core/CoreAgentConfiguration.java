package io.javastor.core;

import io.javastor.core.operation.OperationGuard;
import java.time.Clock;
import java.util.List;

import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.annotation.EnableScheduling;

import io.etcd.jetcd.Client;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.EventRecordRepository;
import io.javastor.core.events.RebuildHistoryStore;
import io.javastor.core.events.RebuildRecordRepository;
import io.javastor.core.leader.LeaderElection;
import io.javastor.core.leader.LeadershipChanged;
import io.javastor.core.leader.LeadershipHealth;
import io.javastor.core.leader.LeadershipListener;
import io.javastor.api.tls.ClusterTls;
import io.javastor.core.node.IoEngineConnections;
import io.javastor.core.node.NodeCameOnline;
import io.javastor.core.node.NodeOperations;
import io.javastor.core.node.NodeRegistration;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeStatePoller;
import io.javastor.core.node.RegistrationApi;
import io.javastor.core.nexus.NexusInfoLedger;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nvmeauth.NvmeSecrets;
import io.javastor.core.placement.ReplicaPlacer;
import io.javastor.core.pool.PoolOperations;
import io.javastor.core.reconcile.ExtraReplicaReconciler;
import io.javastor.core.reconcile.MissingReplicaDetector;
import io.javastor.core.reconcile.LostReplicaReplacer;
import io.javastor.core.reconcile.MissingNexusChildAdder;
import io.javastor.core.reconcile.MissingNexusRecreator;
import io.javastor.core.reconcile.NexusSpecRecovery;
import io.javastor.core.reconcile.NodeInventoryReconciler;
import io.javastor.core.reconcile.NodeLivenessReconciler;
import io.javastor.core.reconcile.OrphanReplicaCollector;
import io.javastor.core.reconcile.PoolImportReconciler;
import io.javastor.core.reconcile.PoolSpecRecovery;
import io.javastor.core.reconcile.ReconcilePoller;
import io.javastor.core.reconcile.RebuildHistoryRecorder;
import io.javastor.core.reconcile.Reconciler;
import io.javastor.core.reconcile.ReplicaSpecRecovery;
import io.javastor.core.reconcile.VolumeSpecRecovery;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.store.EtcdConnection;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.WriteFence;
import io.javastor.core.volume.VolumeOperations;
import io.javastor.core.volume.VolumeReplicas;
import io.javastor.core.volume.VolumeViews;

/** Wires the parts; the classes themselves know nothing of Spring so tests can assemble them too. */
@Configuration(proxyBeanMethods = false)
@EnableScheduling
public class CoreAgentConfiguration {

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }

    @Bean(destroyMethod = "close")
    Client etcdClient(CoreAgentProperties props, ClusterTls tls) {
        return EtcdConnection.open(props.etcd().endpoints(), tls);
    }

    @Bean(destroyMethod = "close")
    LeaderElection leaderElection(Client etcd, CoreAgentProperties props, ApplicationEventPublisher publisher) {
        LeadershipListener listener = new LeadershipListener() {
            @Override
            public void elected(long term) {
                publisher.publishEvent(new LeadershipChanged(props.agentId(), term, true));
            }

            @Override
            public void revoked(long term) {
                publisher.publishEvent(new LeadershipChanged(props.agentId(), term, false));
            }
        };
        return new LeaderElection(etcd, props.cluster(), props.agentId(), props.leader().ttl(), listener);
    }

    @Bean
    LeadershipHealth leadershipHealthIndicator(LeaderElection election) {
        return new LeadershipHealth(election);
    }

    @Bean
    SpecStore specStore(Client etcd, CoreAgentProperties props, LeaderElection election) {
        // Without lease reads the store sees only the election's write condition, not its sole-writer promise.
        WriteFence fence = props.leader().leaseReads() ? election : election::condition;
        return new SpecStore(etcd.getKVClient(), etcd.getWatchClient(), props.cluster(), fence, props.etcd().timeout().toMillis());
    }

    @Bean
    EventHistory eventHistory(EventRecordRepository repository, CoreAgentProperties props, Clock clock) {
        return new EventHistory(repository, props.agentId(), clock);
    }

    @Bean
    NodeRegistry nodeRegistry() {
        return new NodeRegistry();
    }

    @Bean(destroyMethod = "close")
    IoEngineConnections ioEngineConnections(NodeRegistry registry, CoreAgentProperties props, ClusterTls tls) {
        return new IoEngineConnections(registry, props.nodes().callTimeout(), tls);
    }

    @Bean
    NodeStatePoller nodeStatePoller(NodeRegistry registry, IoEngineConnections connections, Clock clock) {
        return new NodeStatePoller(registry, connections, clock);
    }

    @Bean
    OperationGuard nodeGuard() {
        return new OperationGuard("node");
    }

    @Bean
    OperationGuard poolGuard() {
        return new OperationGuard("pool");
    }

    @Bean
    OperationGuard volumeGuard() {
        return new OperationGuard("volume");
    }

    @Bean
    NodeRegistration nodeRegistration(SpecStore store, NodeRegistry registry, OperationGuard nodeGuard, EventHistory events,
                                      Clock clock, CoreAgentProperties props, ApplicationEventPublisher publisher) {
        // An event rather than a direct call: the reconcile poller depends on the registration.
        return new NodeRegistration(store, registry, nodeGuard, events, clock, props.nodes().heartbeatTimeout(),
                nodeId -> publisher.publishEvent(new NodeCameOnline(nodeId)));
    }

    @Bean
    NodeOperations nodeOperations(SpecStore store, OperationGuard nodeGuard, EventHistory events, NexusOperations nexuses) {
        return new NodeOperations(store, nodeGuard, events, nexuses);
    }

    @Bean
    PoolOperations poolOperations(SpecStore store, OperationGuard poolGuard, IoEngineConnections engines, NodeRegistry registry,
                                  NodeStatePoller poller, EventHistory events, ReplicaOperations replicas) {
        return new PoolOperations(store, poolGuard, engines, registry, poller, events, replicas);
    }

    @Bean
    ReplicaOperations replicaOperations(SpecStore store, IoEngineConnections engines, NodeStatePoller poller, EventHistory events,
                                        java.util.concurrent.ExecutorService nodeCallExecutor) {
        return new ReplicaOperations(store, engines, poller, events, nodeCallExecutor);
    }

    @Bean
    io.javastor.core.replica.StandaloneReplicas standaloneReplicas(SpecStore store, OperationGuard volumeGuard, ReplicaOperations replicas,
                                                                  IoEngineConnections engines, NodeRegistry registry,
                                                                  NodeStatePoller poller, EventHistory events, NvmeSecrets secrets,
                                                                  io.javastor.core.nexus.StandaloneNexuses nexuses) {
        return new io.javastor.core.replica.StandaloneReplicas(store, volumeGuard, replicas, engines, registry, poller, events, secrets,
                nexuses);
    }

    /** Node calls of one operation that go to different nodes run side by side here. */
    @Bean(destroyMethod = "shutdownNow")
    java.util.concurrent.ExecutorService nodeCallExecutor() {
        return java.util.concurrent.Executors.newFixedThreadPool(16, r -> {
            Thread t = new Thread(r, "node-call");
            t.setDaemon(true);
            return t;
        });
    }

    @Bean
    ReplicaPlacer replicaPlacer(CoreAgentProperties props, io.micrometer.core.instrument.MeterRegistry meters) {
        return new ReplicaPlacer(props.placement().thinOvercommitPercent(), meters);
    }

    @Bean
    VolumeReplicas volumeReplicas(SpecStore store, ReplicaOperations replicas, ReplicaPlacer placer, NodeRegistry registry,
                                  NexusOperations nexuses) {
        return new VolumeReplicas(store, replicas, placer, registry, nexuses);
    }

    @Bean
    VolumeViews volumeViews(SpecStore store, ReplicaOperations replicas, NodeRegistry registry, NexusOperations nexuses) {
        return new VolumeViews(store, replicas, registry, nexuses);
    }

    @Bean
    VolumeOperations volumeOperations(SpecStore store, OperationGuard volumeGuard, ReplicaOperations replicas, VolumeReplicas volumeReplicas,
                                      VolumeViews views, NodeRegistry registry, EventHistory events, NexusOperations nexuses) {
        return new VolumeOperations(store, volumeGuard, replicas, volumeReplicas, views, registry, events, nexuses);
    }

    @Bean
    io.javastor.core.snapshot.SnapshotOperations snapshotOperations(SpecStore store, OperationGuard volumeGuard, IoEngineConnections engines,
                                                                    NexusOperations nexuses, ReplicaOperations replicas,
                                                                    VolumeOperations volumes, VolumeViews views, EventHistory events,
                                                                    java.util.concurrent.ExecutorService nodeCallExecutor) {
        return new io.javastor.core.snapshot.SnapshotOperations(store, volumeGuard, engines, nexuses, replicas, volumes, views, events,
                nodeCallExecutor);
    }

    @Bean
    NexusOperations nexusOperations(SpecStore store, NodeRegistry registry, IoEngineConnections engines, EventHistory events,
                                    NexusInfoLedger nexusInfo, NodeStatePoller poller, RebuildHistoryStore rebuilds,
                                    CoreAgentProperties props, NvmeSecrets linkSecrets) {
        return new NexusOperations(store, registry, engines, events, nexusInfo, poller, rebuilds, props.failover().answerTimeout(),
                linkSecrets);
    }

    @Bean
    NvmeSecrets nvmeSecrets(Client etcd, CoreAgentProperties props) {
        return new NvmeSecrets(etcd.getKVClient(), props.cluster(), props.etcd().timeout().toMillis(), props.nvmeAuth().links(),
                props.nvmeAuth().hosts());
    }

    @Bean
    RebuildHistoryStore rebuildHistoryStore(RebuildRecordRepository repository, CoreAgentProperties props) {
        return new RebuildHistoryStore(repository, props.agentId());
    }

    @Bean
    RebuildHistoryRecorder rebuildHistoryRecorder(NexusOperations nexuses, NodeRegistry registry, IoEngineConnections engines,
                                                  RebuildHistoryStore rebuilds, Clock clock) {
        return new RebuildHistoryRecorder(nexuses, registry, engines, rebuilds, clock);
    }

    @Bean
    io.javastor.core.nexus.StandaloneNexuses standaloneNexuses(SpecStore store, OperationGuard volumeGuard, NexusOperations nexuses,
                                                              IoEngineConnections engines, NodeRegistry registry, EventHistory events,
                                                              NvmeSecrets secrets, VolumeOperations volumes) {
        return new io.javastor.core.nexus.StandaloneNexuses(store, volumeGuard, nexuses, engines, registry, events, secrets, volumes);
    }

    @Bean
    NexusInfoLedger nexusInfoLedger(SpecStore store, EventHistory events) {
        return new NexusInfoLedger(store, events);
    }

    /** A target's reports on its children (RegistrationApi) go to the ledger, then to the rebuild history. */
    @Bean
    RegistrationApi.ChildHealthReports childHealthReports(NexusInfoLedger nexusInfo, RebuildHistoryRecorder rebuildHistory) {
        return (nodeId, nexusUuid, childUri, faulted, reason) -> {
            // The ledger refuses (throws) a report it cannot record; a refused report ended no rebuild either.
            nexusInfo.childReport(nodeId, nexusUuid, childUri, faulted, reason);
            rebuildHistory.childReported(nexusUuid, childUri, faulted, reason);
        };
    }

    /** Reconcilers run in this order each pass: liveness before anything that asks whether a node is Online. */
    @Bean(destroyMethod = "close")
    ReconcilePoller reconcilePoller(LeaderElection election, CoreAgentProperties props, Clock clock, SpecStore store,
                                    NodeRegistry registry, NodeStatePoller statePoller, IoEngineConnections engines,
                                    EventHistory events, NodeRegistration registration, PoolOperations pools,
                                    ReplicaOperations replicas, OperationGuard volumeGuard, VolumeOperations volumes,
                                    VolumeReplicas volumeReplicas, NexusOperations nexuses,
                                    RebuildHistoryRecorder rebuildHistory, io.javastor.core.watch.WatchNotifier watchNotifier,
                                    io.javastor.core.snapshot.SnapshotOperations snapshots,
                                    io.micrometer.core.instrument.MeterRegistry meters) {
        List<Reconciler> reconcilers = List.of(
                new NodeLivenessReconciler(registration),
                new NodeInventoryReconciler(statePoller, clock, props.nodes().statePollInterval()),
                new PoolSpecRecovery(store, pools, registry),
                new PoolImportReconciler(pools, registry, engines, statePoller, events),
                new VolumeSpecRecovery(store, volumeGuard, volumes),
                new io.javastor.core.reconcile.SnapshotSpecRecovery(store, snapshots),
                new ReplicaSpecRecovery(store, replicas, volumeGuard, registry),
                new ExtraReplicaReconciler(store, replicas, volumeGuard, volumeReplicas, events),
                new NexusSpecRecovery(store, nexuses, volumeGuard),
                // Before the re-creator: a target whose node is offline or drained moves instead of waiting for it.
                new io.javastor.core.reconcile.DrainTargetMover(store, volumeGuard, nexuses, replicas),
                new io.javastor.core.reconcile.OfflineTargetMover(store, volumeGuard, nexuses, replicas, registry),
                new MissingNexusRecreator(store, nexuses, replicas, volumeGuard, registry),
                new io.javastor.core.reconcile.StaleTargetCollector(store, nexuses, volumeGuard, registry),
                new MissingNexusChildAdder(store, nexuses, volumeGuard, registry),
                // Before the replacer: a faulted child whose replica is gone leaves the target here, then is replaced.
                new io.javastor.core.reconcile.FaultedChildHealer(store, nexuses, volumeGuard, replicas, volumeReplicas, registry, events, clock),
                new LostReplicaReplacer(store, replicas, volumeGuard, volumeReplicas, nexuses, registry, events),
                new MissingReplicaDetector(replicas, registry, events),
                new OrphanReplicaCollector(store, registry, engines, events, clock, props.reconcile().orphanGrace()),
                rebuildHistory,
                // Last: it reports what the others made of each volume in this pass.
                watchNotifier);
        java.util.Set<String> disabled = new java.util.HashSet<>(props.reconcile().disabled());
        if (!props.failover().moveOnNodeOffline()) {
            disabled.add("offline-target-mover"); // the one freeze mechanism, so naming it in disabled too stays valid
        }
        return new ReconcilePoller(reconcilers, disabled, election::isLeader, props.reconcile().interval(), meters);
    }
}
