package io.javastor.ioengine.nexus;

/**
 * The control plane says this nexus is an old target of its volume (the target moved to another node while this one
 * was frozen or cut off): it refused to record this nexus's child report. The nexus is then fenced like one that got
 * Reservation Conflict: nothing more is acknowledged, and hosts are sent to their other path.
 */
public final class TargetSuperseded extends RuntimeException {
    public TargetSuperseded(String message) {
        super(message);
    }
}
