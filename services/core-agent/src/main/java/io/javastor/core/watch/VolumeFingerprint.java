package io.javastor.core.watch;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.TreeMap;

import io.javastor.core.volume.VolumeSpec;
import io.javastor.core.volume.VolumeView;

/**
 * What a watcher is told about, reduced to a hash: the volume's spec (size, replica count, status, topology, ...),
 * its observed status, its target and its replicas (which, where, present or not). Any of these changing is a
 * change worth a call; nothing else (timestamps, rebuild progress) is in it, so a steady volume stays silent.
 * The same on every agent, so it can be compared with one a previous leader stored.
 */
final class VolumeFingerprint {

    private VolumeFingerprint() {
    }

    static String of(VolumeView v) {
        VolumeSpec s = v.spec();
        StringBuilder b = new StringBuilder(256);
        b.append("spec ").append(s.uuid()).append(' ').append(s.size()).append(' ').append(s.replicaCount()).append(' ')
                .append(s.thin()).append(' ').append(s.operation()).append(' ').append(s.affinityGroup()).append(' ')
                .append(new TreeMap<>(s.topology().nodeLabels())).append(' ').append(new TreeMap<>(s.topology().poolLabels()));
        b.append("\nstatus ").append(v.status());
        v.target().ifPresent(t -> b.append("\ntarget ").append(t.nodeId()).append(' ').append(t.uri()));
        v.replicas().stream().sorted(Comparator.comparing(r -> r.spec().uuid())).forEach(r -> b.append("\nreplica ")
                .append(r.spec().uuid()).append(' ').append(r.spec().nodeId()).append(' ').append(r.spec().poolId()).append(' ')
                .append(r.spec().operation()).append(' ').append(r.present()));
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.toString().getBytes(UTF_8)), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
