package io.javastor.ioengine.nvmf;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/**
 * A TCP relay between an NVMe/TCP host and a real target that passes whole PDUs through a {@link Rule}: it can drop
 * one (a controller that swallows a command), hold one back, or change its bytes (a corrupted digest). Real sockets on
 * both sides; PDUs are framed by the common header's PLEN only, so the relay needs no digest or format state.
 */
final class PduProxy implements AutoCloseable {
    /** What to do with one PDU; returns the bytes to forward (possibly changed) or null to drop it. */
    interface Rule {
        byte[] apply(Link link, boolean toHost, byte[] pdu);
    }

    /** One relayed connection (one NVMe/TCP queue), numbered in accept order. */
    final class Link {
        final int index;
        final Socket host;
        final Socket target;
        /** Counted down when the host closed its side (EOF or reset on the host socket). */
        final CountDownLatch hostClosed = new CountDownLatch(1);

        Link(int index, Socket host, Socket target) {
            this.index = index;
            this.host = host;
            this.target = target;
        }

        /** Sends bytes to the host as if the target had sent them; false when the host side is gone. */
        boolean sendToHost(byte[] pdu) {
            try {
                synchronized (host) {
                    host.getOutputStream().write(pdu);
                    host.getOutputStream().flush();
                }
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        void close() {
            try {
                host.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            try {
                target.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    private final ServerSocket server;
    private final int targetPort;
    private final List<Link> links = new CopyOnWriteArrayList<>();
    private volatile Rule rule = (l, toHost, pdu) -> pdu;
    private volatile boolean closed;

    PduProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread t = new Thread(this::accept, "pdu-proxy-accept");
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return server.getLocalPort();
    }

    void rule(Rule r) {
        rule = r;
    }

    List<Link> links() {
        return links;
    }

    private void accept() {
        while (!closed) {
            try {
                Socket host = server.accept();
                Socket target = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                host.setTcpNoDelay(true);
                target.setTcpNoDelay(true);
                Link link = new Link(links.size(), host, target);
                links.add(link);
                pump(link, host, target, false);
                pump(link, target, host, true);
            } catch (IOException e) {
                if (!closed) {
                    throw new IllegalStateException("proxy accept failed", e);
                }
                return;
            }
        }
    }

    private void pump(Link link, Socket from, Socket to, boolean toHost) {
        Thread t = new Thread(() -> {
            try {
                DataInputStream in = new DataInputStream(from.getInputStream());
                OutputStream out = to.getOutputStream();
                byte[] ch = new byte[8];
                while (true) {
                    in.readFully(ch);
                    int plen = (ch[4] & 0xFF) | (ch[5] & 0xFF) << 8 | (ch[6] & 0xFF) << 16 | (ch[7] & 0xFF) << 24;
                    if (plen < 8 || plen > (64 << 20)) {
                        throw new IOException("bad PLEN " + plen);
                    }
                    byte[] pdu = new byte[plen];
                    System.arraycopy(ch, 0, pdu, 0, 8);
                    in.readFully(pdu, 8, plen - 8);
                    byte[] fwd = rule.apply(link, toHost, pdu);
                    if (fwd != null) {
                        synchronized (to) {
                            out.write(fwd);
                            out.flush();
                        }
                    }
                }
            } catch (IOException e) {
                // EOF or reset: the peer closed
            } finally {
                if (!toHost) {
                    link.hostClosed.countDown();
                }
                link.close();
            }
        }, "pdu-proxy-" + link.index + (toHost ? "-c2h" : "-h2c"));
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        links.forEach(Link::close);
    }

    // ------------------------------------------------------------------ PDU fields the tests' rules look at

    static int type(byte[] pdu) {
        return pdu[0] & 0xFF;
    }

    static int u16(byte[] pdu, int at) {
        return (pdu[at] & 0xFF) | (pdu[at + 1] & 0xFF) << 8;
    }

    static int u32(byte[] pdu, int at) {
        return u16(pdu, at) | u16(pdu, at + 2) << 16;
    }

    /** CapsuleCmd: SQE opcode, command id and CDW10 (the low SLBA of reads and writes). */
    static int opcode(byte[] pdu) {
        return pdu[8] & 0xFF;
    }

    static int commandId(byte[] pdu) {
        return u16(pdu, 10);
    }

    static int cdw10(byte[] pdu) {
        return u32(pdu, 8 + 40);
    }

    /** C2HData: CCCID. */
    static int cccid(byte[] pdu) {
        return u16(pdu, 8);
    }

    static final int CAPSULE_CMD = 0x04;
    static final int CAPSULE_RESP = 0x05;
    static final int C2H_DATA = 0x07;
}
