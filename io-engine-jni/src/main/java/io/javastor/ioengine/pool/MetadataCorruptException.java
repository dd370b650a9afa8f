package io.javastor.ioengine.pool;

/** A metadata copy that failed validation; the reason says which check. */
public class MetadataCorruptException extends Exception {
    public MetadataCorruptException(String reason) {
        super(reason);
    }
}
