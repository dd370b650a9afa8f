package io.javastor.csi;

import java.util.LinkedHashMap;
import java.util.Map;

/** The volume_context the controller hands out with a volume (the StorageClass parameters the node side needs). */
public record VolumeContext(String fsType, int ioTimeoutSeconds, Map<String, String> raw) {
    public static final String FS_TYPE = "fsType";
    public static final String IO_TIMEOUT = "ioTimeout";

    public static VolumeContext from(Map<String, String> map) {
        String fs = map.getOrDefault(FS_TYPE, "ext4");
        int timeout = 0;
        String t = map.get(IO_TIMEOUT);
        if (t != null && !t.isBlank()) {
            try {
                timeout = Integer.parseInt(t.strip());
            } catch (NumberFormatException e) {
                throw Args.invalid("volume_context." + IO_TIMEOUT, "must be a whole number of seconds, got '" + t + "'");
            }
            if (timeout <= 0) {
                throw Args.invalid("volume_context." + IO_TIMEOUT, "must be positive, got " + timeout);
            }
        }
        return new VolumeContext(fs.isBlank() ? "ext4" : fs, timeout, new LinkedHashMap<>(map));
    }
}
