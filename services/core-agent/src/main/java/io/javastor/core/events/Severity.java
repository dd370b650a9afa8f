package io.javastor.core.events;

public enum Severity {
    INFO, WARNING, ERROR
}
