package io.javastor.ioengine.nvmf.pdu;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;
import java.util.zip.CRC32C;

import static io.javastor.ioengine.nvmf.pdu.PduType.*;

/**
 * Bytes to {@link Pdu}s. Checks every common-header field against the negotiated {@link PduFormat} before
 * waiting for the rest of a PDU, so a bogus PLEN cannot make it buffer unbounded input; verifies digests.
 * Any violation throws {@link PduException} and the decoder then discards all further input: the
 * connection is being terminated. A data digest mismatch is not a violation of the stream: it yields a
 * {@link Pdu.DataDigestError} in place of the PDU and decoding goes on. Data parts are handed out as retained slices of the input.
 */
public final class PduDecoder extends ByteToMessageDecoder {
    private final PduFormat format;
    private final CRC32C crc = new CRC32C();
    private boolean failed;

    public PduDecoder(PduFormat format) {
        this.format = format;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < CH_LEN) {
            return;
        }
        int start = in.readerIndex();
        try {
            Pdu pdu = decodeOne(in, start);
            if (pdu != null) {
                out.add(pdu);
            }
        } catch (PduException e) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    private Pdu decodeOne(ByteBuf in, int s) {
        int type = in.getUnsignedByte(s);
        int flags = in.getUnsignedByte(s + 1);
        int hlen = in.getUnsignedByte(s + 2);
        int pdo = in.getUnsignedByte(s + 3);
        long plen = in.getUnsignedIntLE(s + 4);
        boolean target = format.isTarget();
        boolean allowed = target
                ? type == IC_REQ || type == H2C_TERM_REQ || type == CAPSULE_CMD || type == H2C_DATA
                : type == IC_RESP || type == C2H_TERM_REQ || type == CAPSULE_RESP || type == C2H_DATA || type == R2T;
        if (!allowed) {
            throw new PduException(FES_INVALID_HEADER_FIELD, 0, in, s, CH_LEN, "unexpected PDU type 0x" + Integer.toHexString(type));
        }
        if (hlen != headerLength(type)) {
            throw new PduException(FES_INVALID_HEADER_FIELD, 2, in, s, CH_LEN, "HLEN " + hlen + " for PDU type " + type);
        }
        boolean ic = type == IC_REQ || type == IC_RESP;
        boolean term = type == H2C_TERM_REQ || type == C2H_TERM_REQ;
        if (ic == format.initialized() && !term) {
            throw new PduException(FES_PDU_SEQUENCE_ERROR, 0, in, s, CH_LEN,
                    ic ? "second connection initialization PDU" : "PDU type " + type + " before connection initialization");
        }
        if (ic && plen != IC_LEN) {
            throw new PduException(FES_INVALID_HEADER_FIELD, 4, in, s, CH_LEN, "IC PLEN " + plen);
        }
        int hdgst = 0;
        boolean digestsApply = carriesDigests(type) && format.initialized();
        if (digestsApply) {
            boolean hflag = (flags & FLAG_HDGSTF) != 0;
            if (hflag != format.headerDigest()) {
                throw new PduException(FES_INVALID_HEADER_FIELD, 1, in, s, CH_LEN, "HDGSTF " + hflag + " but negotiated " + format.headerDigest());
            }
            hdgst = format.headerDigestLength();
        }
        long headerEnd = hlen + hdgst;
        if (plen < headerEnd || plen > maxPduLength(type, hdgst)) {
            throw new PduException(type == H2C_DATA ? FES_DATA_LIMIT_EXCEEDED : FES_INVALID_HEADER_FIELD, 4, in, s, CH_LEN,
                    "PLEN " + plen + " for PDU type " + type);
        }
        boolean hasData = plen > headerEnd;
        int ddgst = 0;
        if (hasData) {
            if (!(type == CAPSULE_CMD || type == H2C_DATA || type == C2H_DATA || term)) {
                throw new PduException(FES_INVALID_HEADER_FIELD, 4, in, s, CH_LEN, "PLEN " + plen + " carries data for PDU type " + type);
            }
            if (!term) {
                boolean dflag = (flags & FLAG_DDGSTF) != 0;
                if (dflag != format.dataDigest()) {
                    throw new PduException(FES_INVALID_HEADER_FIELD, 1, in, s, CH_LEN, "DDGSTF " + dflag + " but negotiated " + format.dataDigest());
                }
                ddgst = format.dataDigest() ? DIGEST_LEN : 0;
                if (pdo < headerEnd || pdo % 4 != 0 || pdo + ddgst >= plen) {
                    throw new PduException(FES_INVALID_HEADER_FIELD, 3, in, s, CH_LEN, "PDO " + pdo + " with PLEN " + plen);
                }
            } else {
                pdo = (int) headerEnd;
            }
        } else if (type == H2C_DATA || type == C2H_DATA) {
            throw new PduException(FES_INVALID_HEADER_FIELD, 4, in, s, CH_LEN, "data PDU without data");
        }
        if (in.readableBytes() < plen) {
            return null;
        }
        if (hdgst != 0) {
            crc.reset();
            crc.update(in.nioBuffer(s, hlen));
            if ((int) crc.getValue() != in.getIntLE(s + hlen)) {
                throw new PduException(FES_HEADER_DIGEST_ERROR, 0, in, s, hlen, "header digest mismatch");
            }
        }
        int dataLen = hasData ? (int) (plen - pdo - ddgst) : 0;
        boolean dataIntact = true;
        if (ddgst != 0) {
            crc.reset();
            crc.update(in.nioBuffer(s + pdo, dataLen));
            dataIntact = (int) crc.getValue() == in.getIntLE(s + pdo + dataLen);
        }
        Pdu pdu = switch (type) {
            case IC_REQ -> decodeIcReq(in, s);
            case IC_RESP -> new Pdu.IcResp(in.getUnsignedShortLE(s + 8), in.getUnsignedByte(s + 10),
                    (in.getUnsignedByte(s + 11) & 1) != 0, (in.getUnsignedByte(s + 11) & 2) != 0, in.getIntLE(s + 12));
            case H2C_TERM_REQ, C2H_TERM_REQ -> new Pdu.TermReq(type == H2C_TERM_REQ, in.getUnsignedShortLE(s + 8),
                    in.getIntLE(s + 10), in.retainedSlice(s + hlen, (int) plen - hlen));
            case CAPSULE_CMD -> decodeCapsule(in, s, pdo, dataLen);
            case CAPSULE_RESP -> new Pdu.CapsuleResponse(NvmeCompletion.decode(in, s + CH_LEN));
            case H2C_DATA -> decodeH2c(in, s, flags, pdo, dataLen);
            case C2H_DATA -> decodeC2h(in, s, flags, pdo, dataLen);
            case R2T -> decodeR2t(in, s);
            default -> throw new IllegalStateException("type checked above");
        };
        in.readerIndex(s + (int) plen);
        if (!dataIntact) {
            // The header (checked above, and by its own digest if any) still frames the stream: report, drop the data, go on.
            Pdu bad;
            if (pdu instanceof Pdu.CapsuleCommand c) {
                bad = new Pdu.DataDigestError(type, c.command().cid(), 0, 0, dataLen, true, false);
            } else if (pdu instanceof Pdu.H2CData d) {
                bad = new Pdu.DataDigestError(type, d.cccid(), d.ttag(), d.datao(), dataLen, d.last(), false);
            } else if (pdu instanceof Pdu.C2HData d) {
                bad = new Pdu.DataDigestError(type, d.cccid(), 0, d.datao(), dataLen, d.last(), d.success());
            } else {
                throw new IllegalStateException("only capsules and data PDUs carry data digests");
            }
            pdu.release();
            return bad;
        }
        return pdu;
    }

    private long maxPduLength(int type, int hdgst) {
        int digests = hdgst + (format.dataDigest() ? DIGEST_LEN : 0);
        // Room for PDO padding up to the largest alignment a peer may ask for (128 bytes).
        return switch (type) {
            case IC_REQ, IC_RESP -> IC_LEN;
            case H2C_TERM_REQ, C2H_TERM_REQ -> TERM_MAX_PLEN;
            case CAPSULE_CMD -> CMD_HLEN + 128L + format.maxInCapsuleData() + digests;
            case CAPSULE_RESP -> RESP_HLEN + hdgst;
            case R2T -> R2T_HLEN + hdgst;
            case H2C_DATA -> DATA_HLEN + 128L + format.maxH2cData() + digests;
            case C2H_DATA -> DATA_HLEN + 128L + format.maxC2hData() + digests;
            default -> 0;
        };
    }

    private static Pdu decodeIcReq(ByteBuf in, int s) {
        int pfv = in.getUnsignedShortLE(s + 8);
        int hpda = in.getUnsignedByte(s + 10);
        int dgst = in.getUnsignedByte(s + 11);
        long maxr2t = in.getUnsignedIntLE(s + 12);
        if (pfv != 0) {
            throw new PduException(FES_UNSUPPORTED_PARAMETER, 8, in, s, IC_LEN, "PFV " + pfv);
        }
        if (hpda > 31) {
            throw new PduException(FES_INVALID_HEADER_FIELD, 10, in, s, IC_LEN, "HPDA " + hpda);
        }
        return new Pdu.IcReq(pfv, hpda, (dgst & 1) != 0, (dgst & 2) != 0, (int) Math.min(maxr2t, Integer.MAX_VALUE));
    }

    private Pdu decodeCapsule(ByteBuf in, int s, int pdo, int dataLen) {
        NvmeCommand cmd = NvmeCommand.decode(in, s + CH_LEN);
        ByteBuf data = dataLen > 0 ? in.retainedSlice(s + pdo, dataLen) : null;
        return new Pdu.CapsuleCommand(cmd, data);
    }

    private static Pdu decodeH2c(ByteBuf in, int s, int flags, int pdo, int dataLen) {
        long datal = in.getUnsignedIntLE(s + 16);
        if (datal != dataLen) {
            throw new PduException(FES_INVALID_HEADER_FIELD, 16, in, s, DATA_HLEN, "DATAL " + datal + " but " + dataLen + " bytes of data");
        }
        return new Pdu.H2CData(in.getUnsignedShortLE(s + 8), in.getUnsignedShortLE(s + 10), in.getIntLE(s + 12),
                (flags & FLAG_LAST_PDU) != 0, in.retainedSlice(s + pdo, dataLen));
    }

    private static Pdu decodeC2h(ByteBuf in, int s, int flags, int pdo, int dataLen) {
        long datal = in.getUnsignedIntLE(s + 16);
        if (datal != dataLen) {
            throw new PduException(FES_INVALID_HEADER_FIELD, 16, in, s, DATA_HLEN, "DATAL " + datal + " but " + dataLen + " bytes of data");
        }
        if ((flags & FLAG_SUCCESS) != 0 && (flags & FLAG_LAST_PDU) == 0) {
            throw new PduException(FES_INVALID_HEADER_FIELD, 1, in, s, DATA_HLEN, "SUCCESS without LAST_PDU");
        }
        return new Pdu.C2HData(in.getUnsignedShortLE(s + 8), in.getIntLE(s + 12), (flags & FLAG_LAST_PDU) != 0,
                (flags & FLAG_SUCCESS) != 0, in.retainedSlice(s + pdo, dataLen));
    }

    private static Pdu decodeR2t(ByteBuf in, int s) {
        return new Pdu.R2T(in.getUnsignedShortLE(s + 8), in.getUnsignedShortLE(s + 10), in.getIntLE(s + 12), in.getIntLE(s + 16));
    }
}
