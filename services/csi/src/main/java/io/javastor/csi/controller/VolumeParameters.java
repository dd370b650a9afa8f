package io.javastor.csi.controller;

import io.javastor.csi.Args;
import io.javastor.csi.node.Mounter;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The StorageClass parameters: repl, protocol, thin, fsType, ioTimeout, poolAffinityTopologyLabel,
 * nodeAffinityTopologyLabel. Other keys (e.g. csi.storage.k8s.io/*) are ignored.
 */
public record VolumeParameters(int replicas, String protocol, boolean thin, String fsType, Integer ioTimeoutSeconds,
        Map<String, String> poolLabels, Map<String, String> nodeLabels) {

    public static VolumeParameters parse(Map<String, String> p, int maxReplicas) {
        int repl = 1;
        if (p.containsKey("repl")) {
            try {
                repl = Integer.parseInt(p.get("repl").strip());
            } catch (NumberFormatException e) {
                throw Args.invalid("parameters.repl", "must be a whole number, got '" + p.get("repl") + "'");
            }
            if (repl < 1 || repl > maxReplicas) {
                throw Args.invalid("parameters.repl", "must be 1.." + maxReplicas + ", got " + repl);
            }
        }
        String protocol = p.getOrDefault("protocol", "nvmf").strip();
        if (!protocol.equals("nvmf")) {
            throw Args.invalid("parameters.protocol", "must be nvmf, got '" + protocol + "'");
        }
        boolean thin = false;
        if (p.containsKey("thin")) {
            String t = p.get("thin").strip().toLowerCase();
            if (!t.equals("true") && !t.equals("false")) {
                throw Args.invalid("parameters.thin", "must be true or false, got '" + p.get("thin") + "'");
            }
            thin = t.equals("true");
        }
        String fs = p.getOrDefault("fsType", "ext4").strip();
        if (!Mounter.FILESYSTEMS.contains(fs)) {
            throw Args.invalid("parameters.fsType", "must be one of " + Mounter.FILESYSTEMS + ", got '" + fs + "'");
        }
        Integer ioTimeout = null;
        if (p.containsKey("ioTimeout")) {
            try {
                ioTimeout = Integer.parseInt(p.get("ioTimeout").strip());
            } catch (NumberFormatException e) {
                throw Args.invalid("parameters.ioTimeout", "must be whole seconds, got '" + p.get("ioTimeout") + "'");
            }
            if (ioTimeout <= 0) {
                throw Args.invalid("parameters.ioTimeout", "must be positive, got " + ioTimeout);
            }
        }
        return new VolumeParameters(repl, protocol, thin, fs, ioTimeout,
                labels("parameters.poolAffinityTopologyLabel", p.get("poolAffinityTopologyLabel")),
                labels("parameters.nodeAffinityTopologyLabel", p.get("nodeAffinityTopologyLabel")));
    }

    /** "key: value" (or key=value) pairs, one a line or comma separated. */
    static Map<String, String> labels(String field, String text) {
        Map<String, String> out = new LinkedHashMap<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        for (String item : text.split("[\\n,]")) {
            if (item.isBlank()) {
                continue;
            }
            String[] kv = item.split("[:=]", 2);
            if (kv.length != 2 || kv[0].isBlank() || kv[1].isBlank()) {
                throw Args.invalid(field, "expected 'key: value' lines, got '" + item.strip() + "'");
            }
            out.put(kv[0].strip(), kv[1].strip());
        }
        return out;
    }

    /** What the node plugin needs later, handed out as the volume_context. */
    public Map<String, String> context() {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("repl", Integer.toString(replicas));
        c.put("protocol", protocol);
        c.put("thin", Boolean.toString(thin));
        c.put("fsType", fsType);
        if (ioTimeoutSeconds != null) {
            c.put("ioTimeout", ioTimeoutSeconds.toString());
        }
        return c;
    }
}
