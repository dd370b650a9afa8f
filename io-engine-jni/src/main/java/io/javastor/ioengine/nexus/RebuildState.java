package io.javastor.ioengine.nexus;

/** Life of one rebuild job. */
public enum RebuildState {
    RUNNING, PAUSED, COMPLETED, FAILED, CANCELLED;

    public boolean finished() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
    }
}
