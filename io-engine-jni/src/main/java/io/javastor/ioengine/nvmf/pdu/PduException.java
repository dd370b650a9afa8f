package io.javastor.ioengine.nvmf.pdu;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * A fatal transport error found in received bytes: the connection is terminated with a TermReq carrying
 * {@link #fes()} / {@link #fei()} and the offending header (3.6.2.4). (Data digest errors are not fatal:
 * see {@link Pdu.DataDigestError}.)
 */
public final class PduException extends RuntimeException {
    private final int fes;
    private final int fei;
    private final byte[] header;

    public PduException(int fes, int fei, ByteBuf in, int start, int headerLength, String message) {
        super(message, null, false, false);
        this.fes = fes;
        this.fei = fei;
        int n = Math.max(0, Math.min(Math.min(headerLength, PduType.TERM_MAX_PLEN - PduType.TERM_HLEN), in.writerIndex() - start));
        this.header = new byte[n];
        in.getBytes(start, header);
    }

    public int fes() {
        return fes;
    }

    public int fei() {
        return fei;
    }

    public ByteBuf headerCopy() {
        return Unpooled.wrappedBuffer(header);
    }
}
