package io.javastor.core.leader;

/** Told when this agent starts or stops leading. Called on the election thread: return quickly. */
public interface LeadershipListener {
    void elected(long term);

    void revoked(long term);
}
