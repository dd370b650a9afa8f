package io.javastor.ioengine.nvmf.auth;

/**
 * The secrets of one host on one subsystem: the host's, which it proves it holds, and optionally the controller's,
 * with which the controller proves itself back (bidirectional authentication).
 */
public record DhchapKeys(DhchapSecret host, DhchapSecret controller) {
    public DhchapKeys {
        if (host == null) {
            throw new IllegalArgumentException("DH-HMAC-CHAP keys need the host's secret");
        }
    }

    /** From the representations; {@code controller} may be null or empty (no bidirectional authentication). */
    public static DhchapKeys parse(String host, String controller) {
        return new DhchapKeys(DhchapSecret.parse(host),
                controller == null || controller.isEmpty() ? null : DhchapSecret.parse(controller));
    }

    public boolean bidirectional() {
        return controller != null;
    }
}
