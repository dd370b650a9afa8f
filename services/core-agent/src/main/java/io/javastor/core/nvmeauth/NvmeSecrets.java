package io.javastor.core.nvmeauth;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.javastor.api.ioengine.v1.DhchapSecrets;
import io.javastor.core.operation.CoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

/**
 * The DH-HMAC-CHAP secrets of NVMe/TCP connections (NVMe in-band authentication, issue 16). Links: a replica shared
 * to the node of its volume's target admits only that node's initiator, which proves it holds the link's host
 * secret, and the replica's target proves back that it holds the link's controller secret. Hosts: a volume's target
 * admits each host it is published to with that host's pair for the volume, which the host's CSI node plugin asks
 * the agent for. Each pair is derived from one random cluster key kept in etcd (outside the specs, which the REST
 * API serves): HMAC-SHA-256(key, label, replica or volume, host NQN). Derived, not stored one by one, so a share or
 * target re-created after a restart or a move gets the same secrets its peer still holds; distinct per connection,
 * so a node learns only the secrets of its own. Never logged.
 */
public final class NvmeSecrets {
    private static final Logger log = LoggerFactory.getLogger(NvmeSecrets.class);
    private static final int KEY_BYTES = 32;

    private final KV kv;
    private final ByteSequence keyName;
    private final long timeoutMillis;
    private final boolean links;
    private final boolean hosts;
    private volatile byte[] clusterKey;

    /**
     * @param links false: replica links are not authenticated ({@link #forLink} answers null)
     * @param hosts false: volume targets do not authenticate their hosts ({@link #forHost} answers null)
     */
    public NvmeSecrets(KV kv, String cluster, long timeoutMillis, boolean links, boolean hosts) {
        this.kv = kv;
        this.keyName = ByteSequence.from("/javastor/" + cluster + "/secrets/nvme-link-key", StandardCharsets.UTF_8);
        this.timeoutMillis = timeoutMillis;
        this.links = links;
        this.hosts = hosts;
    }

    /** The secrets of the link from {@code hostNqn}'s initiator to replica {@code replicaUuid}'s share; null when off. */
    public DhchapSecrets forLink(String replicaUuid, String hostNqn) {
        return links ? pair("link", replicaUuid, hostNqn) : null;
    }

    /** The secrets with which host {@code hostNqn} connects to volume {@code volumeUuid}'s target; null when off. */
    public DhchapSecrets forHost(String volumeUuid, String hostNqn) {
        return hosts ? pair("volume", volumeUuid, hostNqn) : null;
    }

    /** {@link #forHost} of each host, by host NQN; empty when hosts do not authenticate. */
    public java.util.Map<String, DhchapSecrets> forHosts(String volumeUuid, java.util.List<String> hostNqns) {
        java.util.Map<String, DhchapSecrets> out = new java.util.HashMap<>();
        hostNqns.forEach(h -> java.util.Optional.ofNullable(forHost(volumeUuid, h)).ifPresent(p -> out.put(h, p)));
        return out;
    }

    /** {@link #forLink} of each host, by host NQN; empty when links do not authenticate. */
    public java.util.Map<String, DhchapSecrets> forLinks(String replicaUuid, java.util.List<String> hostNqns) {
        java.util.Map<String, DhchapSecrets> out = new java.util.HashMap<>();
        hostNqns.forEach(h -> java.util.Optional.ofNullable(forLink(replicaUuid, h)).ifPresent(p -> out.put(h, p)));
        return out;
    }

    private DhchapSecrets pair(String kind, String resource, String hostNqn) {
        byte[] key = clusterKey();
        return DhchapSecrets.newBuilder()
                .setHostSecret(text(derive(key, kind + "-host", resource, hostNqn)))
                .setControllerSecret(text(derive(key, kind + "-controller", resource, hostNqn)))
                .build();
    }

    /** The cluster key: read from etcd, or created there once (the first agent to get there wins; the rest read it). */
    private byte[] clusterKey() {
        byte[] k = clusterKey;
        if (k != null) {
            return k;
        }
        synchronized (this) {
            if (clusterKey == null) {
                clusterKey = loadOrCreate();
            }
            return clusterKey;
        }
    }

    private byte[] loadOrCreate() {
        try {
            byte[] fresh = new byte[KEY_BYTES];
            new SecureRandom().nextBytes(fresh);
            TxnResponse r = kv.txn().If(new Cmp(keyName, Cmp.Op.EQUAL, CmpTarget.version(0)))
                    .Then(Op.put(keyName, ByteSequence.from(fresh), PutOption.DEFAULT))
                    .Else(Op.get(keyName, GetOption.DEFAULT))
                    .commit().get(timeoutMillis, TimeUnit.MILLISECONDS);
            if (r.isSucceeded()) {
                log.info("created the cluster's NVMe link authentication key in etcd");
                return fresh;
            }
            byte[] stored = r.getGetResponses().get(0).getKvs().get(0).getValue().getBytes();
            if (stored.length != KEY_BYTES) {
                throw new CoreException.FailedPrecondition("the NVMe link authentication key in etcd has " + stored.length + " bytes, not " + KEY_BYTES);
            }
            return stored;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CoreException.Unavailable("interrupted reading the NVMe link authentication key");
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new CoreException.Unavailable("etcd: cannot read the NVMe link authentication key: " + e);
        }
    }

    private static byte[] derive(byte[] key, String label, String replicaUuid, String hostNqn) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update((label + "\0" + replicaUuid + "\0" + hostNqn).getBytes(StandardCharsets.UTF_8));
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    /**
     * The DHHC-1 representation (NVMe base 2.0, 8.13.5.8): base64 of the key and its CRC-32 (little-endian), with the
     * key transformation 01 (SHA-256), which binds the secret to the NQN it is used with.
     */
    static String text(byte[] secret) {
        CRC32 crc = new CRC32();
        crc.update(secret);
        ByteBuffer raw = ByteBuffer.allocate(secret.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        raw.put(secret).putInt((int) crc.getValue());
        return "DHHC-1:01:" + Base64.getEncoder().encodeToString(raw.array()) + ":";
    }
}
