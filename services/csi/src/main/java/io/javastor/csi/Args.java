package io.javastor.csi;

import csi.v1.Csi.VolumeCapability;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.nio.file.Path;

/** Argument checks done before anything else; each failure is INVALID_ARGUMENT naming the field. */
public final class Args {
    private Args() {
    }

    public static StatusRuntimeException invalid(String field, String why) {
        return Status.INVALID_ARGUMENT.withDescription(field + ": " + why).asRuntimeException();
    }

    public static String required(String field, String value) {
        if (value == null || value.isBlank()) {
            throw invalid(field, "is required");
        }
        return value;
    }

    public static Path absolutePath(String field, String value) {
        required(field, value);
        Path p = Path.of(value);
        if (!p.isAbsolute() || value.contains("\0")) {
            throw invalid(field, "must be an absolute path, got '" + value + "'");
        }
        return p.normalize();
    }

    public static VolumeCapability capability(String field, boolean present, VolumeCapability cap) {
        if (!present) {
            throw invalid(field, "is required");
        }
        if (cap.getAccessTypeCase() == VolumeCapability.AccessTypeCase.ACCESSTYPE_NOT_SET) {
            throw invalid(field + ".access_type", "one of block or mount is required");
        }
        if (!cap.hasAccessMode() || cap.getAccessMode().getMode() == VolumeCapability.AccessMode.Mode.UNKNOWN) {
            throw invalid(field + ".access_mode", "is required");
        }
        return cap;
    }

    /** The single-node modes we serve; null when supported, else why not. */
    public static String unsupportedAccessMode(VolumeCapability cap) {
        return switch (cap.getAccessMode().getMode()) {
            case SINGLE_NODE_WRITER, SINGLE_NODE_READER_ONLY, SINGLE_NODE_SINGLE_WRITER -> null;
            default -> "access mode " + cap.getAccessMode().getMode() + " is not supported (single-node modes only)";
        };
    }

    public static String fsType(VolumeCapability cap, String fallback) {
        String fs = cap.hasMount() ? cap.getMount().getFsType() : "";
        return fs.isBlank() ? fallback : fs;
    }
}
