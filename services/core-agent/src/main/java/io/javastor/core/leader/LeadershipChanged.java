package io.javastor.core.leader;

/** Published (as a Spring application event) when this agent starts or stops leading. */
public record LeadershipChanged(String agentId, long term, boolean leading) {}
