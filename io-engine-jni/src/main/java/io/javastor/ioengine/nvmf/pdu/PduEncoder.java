package io.javastor.ioengine.nvmf.pdu;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;

import java.util.List;
import java.util.zip.CRC32C;

import static io.javastor.ioengine.nvmf.pdu.PduType.*;

/**
 * {@link Pdu}s to bytes: a small header buffer, then the PDU's data buffer itself (no copy, the channel
 * gathers them in one writev), then the data digest. Digests and PDO padding follow the {@link PduFormat}.
 */
public final class PduEncoder extends MessageToMessageEncoder<Pdu> {
    private final PduFormat format;
    private final CRC32C crc = new CRC32C();

    public PduEncoder(PduFormat format) {
        super(Pdu.class);
        this.format = format;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Pdu pdu, List<Object> out) {
        if (pdu instanceof Pdu.IcReq r) {
            ByteBuf b = ctx.alloc().buffer(IC_LEN);
            commonHeader(b, IC_REQ, 0, IC_LEN, 0, IC_LEN);
            b.writeShortLE(r.pfv()).writeByte(r.hpda()).writeByte((r.headerDigest() ? 1 : 0) | (r.dataDigest() ? 2 : 0))
                    .writeIntLE(r.maxr2t()).writeZero(IC_LEN - 16);
            out.add(b);
        } else if (pdu instanceof Pdu.IcResp r) {
            ByteBuf b = ctx.alloc().buffer(IC_LEN);
            commonHeader(b, IC_RESP, 0, IC_LEN, 0, IC_LEN);
            b.writeShortLE(r.pfv()).writeByte(r.cpda()).writeByte((r.headerDigest() ? 1 : 0) | (r.dataDigest() ? 2 : 0))
                    .writeIntLE(r.maxH2cData()).writeZero(IC_LEN - 16);
            out.add(b);
        } else if (pdu instanceof Pdu.TermReq t) {
            int dataLen = t.data() == null ? 0 : Math.min(t.data().readableBytes(), TERM_MAX_PLEN - TERM_HLEN);
            ByteBuf b = ctx.alloc().buffer(TERM_HLEN + dataLen);
            commonHeader(b, t.fromHost() ? H2C_TERM_REQ : C2H_TERM_REQ, 0, TERM_HLEN, 0, TERM_HLEN + dataLen);
            b.writeShortLE(t.fes()).writeIntLE(t.fei()).writeZero(TERM_HLEN - 14);
            if (dataLen > 0) {
                b.writeBytes(t.data(), t.data().readerIndex(), dataLen);
            }
            t.release();
            out.add(b);
        } else if (pdu instanceof Pdu.CapsuleCommand c) {
            ByteBuf hdr = ctx.alloc().directBuffer(CMD_HLEN + 8 + format.peerDataAlignment());
            int dataLen = c.data() == null ? 0 : c.data().readableBytes();
            int pdo = dataHeader(hdr, CAPSULE_CMD, 0, CMD_HLEN, dataLen);
            c.command().encode(hdr);
            finish(hdr, CMD_HLEN, pdo, c.data(), out);
        } else if (pdu instanceof Pdu.CapsuleResponse r) {
            ByteBuf hdr = ctx.alloc().directBuffer(RESP_HLEN + 4);
            dataHeader(hdr, CAPSULE_RESP, 0, RESP_HLEN, 0);
            r.completion().encode(hdr);
            finish(hdr, RESP_HLEN, 0, null, out);
        } else if (pdu instanceof Pdu.H2CData d) {
            ByteBuf hdr = ctx.alloc().directBuffer(DATA_HLEN + 8 + format.peerDataAlignment());
            int dataLen = d.data().readableBytes();
            int pdo = dataHeader(hdr, H2C_DATA, d.last() ? FLAG_LAST_PDU : 0, DATA_HLEN, dataLen);
            hdr.writeShortLE(d.cccid()).writeShortLE(d.ttag()).writeIntLE(d.datao()).writeIntLE(dataLen).writeIntLE(0);
            finish(hdr, DATA_HLEN, pdo, d.data(), out);
        } else if (pdu instanceof Pdu.C2HData d) {
            ByteBuf hdr = ctx.alloc().directBuffer(DATA_HLEN + 8 + format.peerDataAlignment());
            int dataLen = d.data().readableBytes();
            int flags = (d.last() ? FLAG_LAST_PDU : 0) | (d.success() ? FLAG_SUCCESS : 0);
            int pdo = dataHeader(hdr, C2H_DATA, flags, DATA_HLEN, dataLen);
            hdr.writeShortLE(d.cccid()).writeShortLE(0).writeIntLE(d.datao()).writeIntLE(dataLen).writeIntLE(0);
            finish(hdr, DATA_HLEN, pdo, d.data(), out);
        } else if (pdu instanceof Pdu.R2T r) {
            ByteBuf hdr = ctx.alloc().directBuffer(R2T_HLEN + 4);
            dataHeader(hdr, R2T, 0, R2T_HLEN, 0);
            hdr.writeShortLE(r.cccid()).writeShortLE(r.ttag()).writeIntLE(r.r2to()).writeIntLE(r.r2tl()).writeIntLE(0);
            finish(hdr, R2T_HLEN, 0, null, out);
        }
    }

    private static void commonHeader(ByteBuf b, int type, int flags, int hlen, int pdo, int plen) {
        b.writeByte(type).writeByte(flags).writeByte(hlen).writeByte(pdo).writeIntLE(plen);
    }

    /** Writes the common header of a digest-capable PDU; returns PDO (0 without data). */
    private int dataHeader(ByteBuf b, int type, int flags, int hlen, int dataLen) {
        int hdgst = format.headerDigestLength();
        int ddgst = format.dataDigest() && dataLen > 0 ? DIGEST_LEN : 0;
        int pdo = 0;
        int plen = hlen + hdgst;
        if (dataLen > 0) {
            int align = format.peerDataAlignment();
            pdo = (hlen + hdgst + align - 1) / align * align;
            plen = pdo + dataLen + ddgst;
        }
        flags |= (hdgst != 0 ? FLAG_HDGSTF : 0) | (ddgst != 0 ? FLAG_DDGSTF : 0);
        commonHeader(b, type, flags, hlen, pdo, plen);
        return pdo;
    }

    private void finish(ByteBuf hdr, int hlen, int pdo, ByteBuf data, List<Object> out) {
        if (format.headerDigest()) {
            crc.reset();
            crc.update(hdr.nioBuffer(0, hlen));
            hdr.writeIntLE((int) crc.getValue());
        }
        if (data == null || !data.isReadable()) {
            if (data != null) {
                data.release();
            }
            out.add(hdr);
            return;
        }
        if (pdo > hdr.writerIndex()) {
            hdr.writeZero(pdo - hdr.writerIndex());
        }
        out.add(hdr);
        out.add(data);
        if (format.dataDigest()) {
            crc.reset();
            crc.update(data.nioBuffer());
            ByteBuf dg = hdr.alloc().directBuffer(DIGEST_LEN);
            dg.writeIntLE((int) crc.getValue());
            out.add(dg);
        }
    }
}
