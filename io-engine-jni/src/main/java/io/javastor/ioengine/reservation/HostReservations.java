package io.javastor.ioengine.reservation;

import io.javastor.ioengine.reservation.NamespaceReservations.Outcome;

import java.util.concurrent.CompletableFuture;

/**
 * One host's reservation commands on the namespace behind a device, whichever way the device reaches it: a replica
 * opened in this engine acts on its {@link NamespaceReservations} directly, a remote one sends the NVMe commands
 * (NVM command set 3.2.3-3.2.6). A nexus fences its children through this, remote and local alike. The actions and
 * keys are the spec's (see {@link NamespaceReservations} for the action values); a failure to carry the command out
 * (connection lost, store broken) completes the future exceptionally.
 */
public interface HostReservations {
    CompletableFuture<Outcome> register(int action, boolean ignoreExistingKey, long currentKey, long newKey);

    CompletableFuture<Outcome> acquire(int action, ReservationType type, long currentKey, long preemptKey);

    CompletableFuture<Outcome> release(int action, ReservationType type, long currentKey);

    CompletableFuture<ReservationStatus> report();
}
