package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.nvmf.pdu.NvmeCommand;
import io.javastor.ioengine.nvmf.pdu.NvmeOpcode;
import io.javastor.ioengine.nvmf.pdu.Pdu;
import io.javastor.ioengine.nvmf.pdu.PduDecoder;
import io.javastor.ioengine.nvmf.pdu.PduEncoder;
import io.javastor.ioengine.nvmf.pdu.PduFormat;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/** A blocking NVMe/TCP host on a plain socket, PDUs encoded/decoded by our codec: for wire-level tests. */
final class WireClient implements AutoCloseable {
    final Socket socket;
    final PduFormat format = new PduFormat(false, 0, 0, 1 << 20);
    private final EmbeddedChannel enc = new EmbeddedChannel(new PduEncoder(format));
    private final EmbeddedChannel dec = new EmbeddedChannel(new PduDecoder(format));

    WireClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(30_000); // a loaded 2-core machine can take seconds to answer; only a failure waits this long
        socket.setTcpNoDelay(true);
    }

    static byte[] bytes(PduFormat f, Pdu pdu) {
        EmbeddedChannel e = new EmbeddedChannel(new PduEncoder(f));
        e.writeOutbound(pdu);
        ByteBuf all = Unpooled.buffer();
        ByteBuf b;
        while ((b = e.readOutbound()) != null) {
            all.writeBytes(b);
            b.release();
        }
        byte[] out = new byte[all.readableBytes()];
        all.readBytes(out);
        return out;
    }

    void send(Pdu pdu) throws IOException {
        sendRaw(bytes(format, pdu));
    }

    void sendRaw(byte[] b) throws IOException {
        socket.getOutputStream().write(b);
        socket.getOutputStream().flush();
    }

    /** The next PDU, or null when the target closed the connection. */
    Pdu receive() throws IOException {
        Pdu p = dec.readInbound();
        InputStream in = socket.getInputStream();
        byte[] buf = new byte[65536];
        while (p == null) {
            int n = in.read(buf);
            if (n < 0) {
                return null;
            }
            dec.writeInbound(Unpooled.wrappedBuffer(buf, 0, n).copy());
            p = dec.readInbound();
        }
        return p;
    }

    /** True when the peer closed (EOF) before {@code millis}; PDUs before that are discarded. */
    boolean closedByPeer() throws IOException {
        try {
            InputStream in = socket.getInputStream();
            byte[] buf = new byte[4096];
            while (true) {
                if (in.read(buf) < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    void initialize() throws IOException {
        initialize(false, false);
    }

    void initialize(boolean headerDigest, boolean dataDigest) throws IOException {
        send(new Pdu.IcReq(0, 0, headerDigest, dataDigest, 0));
        Pdu r = receive();
        if (!(r instanceof Pdu.IcResp resp)) {
            throw new IOException("expected ICResp, got " + r);
        }
        format.initialize(headerDigest, dataDigest, resp.cpda());
        format.maxH2cData(resp.maxH2cData());
    }

    static byte[] connectData(String subnqn, String hostnqn, int cntlid) {
        byte[] d = new byte[1024];
        UUID id = UUID.nameUUIDFromBytes(hostnqn.getBytes(StandardCharsets.UTF_8));
        ByteBuf b = Unpooled.wrappedBuffer(d).writerIndex(0);
        b.setLong(0, id.getMostSignificantBits());
        b.setLong(8, id.getLeastSignificantBits());
        b.setShortLE(16, cntlid);
        byte[] s = subnqn.getBytes(StandardCharsets.UTF_8);
        byte[] h = hostnqn.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(s, 0, d, 256, s.length);
        System.arraycopy(h, 0, d, 512, h.length);
        return d;
    }

    static Pdu.CapsuleCommand connectCapsule(int cid, String subnqn, String hostnqn, int katoMillis) {
        NvmeCommand c = NvmeCommand.of(NvmeOpcode.FABRICS, 0x01, 0, 31, katoMillis, 0, 0, 0)
                .withCid(cid).withSgl(NvmeCommand.SGL_IN_CAPSULE, 1024);
        return new Pdu.CapsuleCommand(c, Unpooled.wrappedBuffer(connectData(subnqn, hostnqn, 0xFFFF)));
    }

    Pdu.CapsuleResponse command(NvmeCommand c) throws IOException {
        send(new Pdu.CapsuleCommand(c, null));
        Pdu p = receive();
        if (!(p instanceof Pdu.CapsuleResponse r)) {
            throw new IOException("expected CapsuleResp, got " + p);
        }
        return r;
    }

    @Override
    public void close() throws IOException {
        socket.close();
        enc.finishAndReleaseAll();
        dec.finishAndReleaseAll();
    }
}
