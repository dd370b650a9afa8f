package io.javastor.ioengine.nvmf.auth;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The messages of a DH-HMAC-CHAP transaction (NVMe base 2.0, 8.13.5), carried as the data of Authentication Send and
 * Authentication Receive. Every message starts with AUTH_TYPE (00h common, 01h DH-HMAC-CHAP), AUTH_ID and the
 * transaction identifier T_ID at bytes 4..5; multi-byte fields are little-endian.
 */
public sealed interface DhchapMessage {
    int AUTH_TYPE_COMMON = 0x00;
    int AUTH_TYPE_DHCHAP = 0x01;
    int ID_NEGOTIATE = 0x00;
    int ID_CHALLENGE = 0x01;
    int ID_REPLY = 0x02;
    int ID_SUCCESS1 = 0x03;
    int ID_SUCCESS2 = 0x04;
    int ID_FAILURE2 = 0xF0;
    int ID_FAILURE1 = 0xF1;
    /** AUTHID of the DH-HMAC-CHAP protocol descriptor. */
    int DHCHAP_AUTH_ID = 0x01;
    /** Reason code of a failure: authentication failure (the explanation says why). */
    int REASON_FAILED = 0x01;

    int tid();

    byte[] encode();

    /**
     * AUTH_Negotiate (8.13.5.1): T_ID, SC_C (secure channel concatenation; 0 none), then NAPD protocol descriptors of
     * 64 bytes — AUTHID, HALEN, DHLEN, and IDLIST: hash identifiers at 0..29, DH group identifiers at 30..59.
     */
    record Negotiate(int tid, int scC, List<Integer> hashIds, List<Integer> dhGroupIds) implements DhchapMessage {
        @Override
        public byte[] encode() {
            ByteBuffer b = header(8 + 64, AUTH_TYPE_COMMON, ID_NEGOTIATE, tid);
            b.put(6, (byte) scC).put(7, (byte) 1);
            b.put(8, (byte) DHCHAP_AUTH_ID).put(10, (byte) hashIds.size()).put(11, (byte) dhGroupIds.size());
            for (int i = 0; i < hashIds.size(); i++) {
                b.put(12 + i, hashIds.get(i).byteValue());
            }
            for (int i = 0; i < dhGroupIds.size(); i++) {
                b.put(12 + 30 + i, dhGroupIds.get(i).byteValue());
            }
            return b.array();
        }
    }

    /** DH-HMAC-CHAP_Challenge (8.13.5.2): HL, HASHID, DHGID, DHVLEN, SEQNUM, then C1 (HL bytes) and the DH value. */
    record Challenge(int tid, int hashId, int dhGroupId, long seqnum, byte[] c1, byte[] dhValue) implements DhchapMessage {
        @Override
        public byte[] encode() {
            ByteBuffer b = header(16 + c1.length + dhValue.length, AUTH_TYPE_DHCHAP, ID_CHALLENGE, tid);
            b.put(6, (byte) c1.length).put(8, (byte) hashId).put(9, (byte) dhGroupId).putShort(10, (short) dhValue.length)
                    .putInt(12, (int) seqnum).put(16, c1).put(16 + c1.length, dhValue);
            return b.array();
        }
    }

    /**
     * DH-HMAC-CHAP_Reply (8.13.5.3): HL, CVALID, DHVLEN, SEQNUM (the host's S2; 0 when it does not authenticate the
     * controller), then the response R1, the challenge C2 (HL bytes, zero when CVALID is 0) and the host's DH value.
     */
    record Reply(int tid, byte[] response, byte[] c2, long seqnum, byte[] dhValue) implements DhchapMessage {
        @Override
        public byte[] encode() {
            int hl = response.length;
            ByteBuffer b = header(16 + 2 * hl + dhValue.length, AUTH_TYPE_DHCHAP, ID_REPLY, tid);
            b.put(6, (byte) hl).put(8, (byte) (c2 == null ? 0 : 1)).putShort(10, (short) dhValue.length).putInt(12, (int) seqnum)
                    .put(16, response);
            if (c2 != null) {
                b.put(16 + hl, c2);
            }
            b.put(16 + 2 * hl, dhValue);
            return b.array();
        }
    }

    /** DH-HMAC-CHAP_Success1 (8.13.5.4): HL, RVALID, then the controller's response R2 when RVALID is 1. */
    record Success1(int tid, int hl, byte[] response) implements DhchapMessage {
        @Override
        public byte[] encode() {
            ByteBuffer b = header(16 + (response == null ? 0 : response.length), AUTH_TYPE_DHCHAP, ID_SUCCESS1, tid);
            b.put(6, (byte) hl).put(8, (byte) (response == null ? 0 : 1));
            if (response != null) {
                b.put(16, response);
            }
            return b.array();
        }
    }

    /** DH-HMAC-CHAP_Success2 (8.13.5.5): the host accepted the controller's response. */
    record Success2(int tid) implements DhchapMessage {
        @Override
        public byte[] encode() {
            return header(16, AUTH_TYPE_DHCHAP, ID_SUCCESS2, tid).array();
        }
    }

    /** AUTH_Failure1 (controller to host) or AUTH_Failure2 (host to controller), 8.13.5.6: REASON and its explanation. */
    record Failure(int authId, int tid, int reason, int explanation) implements DhchapMessage {
        @Override
        public byte[] encode() {
            ByteBuffer b = header(8, AUTH_TYPE_COMMON, authId, tid);
            b.put(6, (byte) reason).put(7, (byte) explanation);
            return b.array();
        }
    }

    private static ByteBuffer header(int size, int type, int id, int tid) {
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, (byte) type).put(1, (byte) id).putShort(4, (short) tid);
        return b;
    }

    /**
     * Decodes one message from {@code length} bytes (the transfer may be longer than the message: the rest is
     * padding); refuses a message that does not fit its own lengths.
     */
    static DhchapMessage decode(byte[] data) throws DhchapException {
        if (data.length < 8) {
            throw new DhchapException(DhchapException.INCORRECT_PAYLOAD, "an authentication message of " + data.length + " bytes");
        }
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int type = b.get(0) & 0xFF;
        int id = b.get(1) & 0xFF;
        int tid = b.getShort(4) & 0xFFFF;
        if (type == AUTH_TYPE_COMMON && (id == ID_FAILURE1 || id == ID_FAILURE2)) {
            return new Failure(id, tid, b.get(6) & 0xFF, b.get(7) & 0xFF);
        }
        if (type == AUTH_TYPE_COMMON && id == ID_NEGOTIATE) {
            int napd = b.get(7) & 0xFF;
            if (napd < 1 || data.length < 8 + 64) {
                throw new DhchapException(DhchapException.INCORRECT_PAYLOAD, "AUTH_Negotiate without a protocol descriptor");
            }
            // The first DH-HMAC-CHAP descriptor: the only protocol the spec defines.
            if ((b.get(8) & 0xFF) != DHCHAP_AUTH_ID) {
                throw new DhchapException(DhchapException.INCORRECT_PAYLOAD, "AUTH_Negotiate: protocol " + (b.get(8) & 0xFF) + " is not DH-HMAC-CHAP");
            }
            int halen = b.get(10) & 0xFF;
            int dhlen = b.get(11) & 0xFF;
            if (halen > 30 || dhlen > 30) {
                throw new DhchapException(DhchapException.INCORRECT_PAYLOAD, "AUTH_Negotiate: HALEN " + halen + " DHLEN " + dhlen + " (at most 30)");
            }
            List<Integer> hashes = new ArrayList<>();
            for (int i = 0; i < halen; i++) {
                hashes.add(b.get(12 + i) & 0xFF);
            }
            List<Integer> groups = new ArrayList<>();
            for (int i = 0; i < dhlen; i++) {
                groups.add(b.get(42 + i) & 0xFF);
            }
            return new Negotiate(tid, b.get(6) & 0xFF, List.copyOf(hashes), List.copyOf(groups));
        }
        if (type != AUTH_TYPE_DHCHAP || data.length < 16) {
            throw new DhchapException(DhchapException.INCORRECT_MESSAGE, "authentication message type " + type + " id " + id);
        }
        int hl = b.get(6) & 0xFF;
        switch (id) {
            case ID_CHALLENGE -> {
                int dhvlen = b.getShort(10) & 0xFFFF;
                need(data, 16 + hl + dhvlen, "DH-HMAC-CHAP_Challenge");
                return new Challenge(tid, b.get(8) & 0xFF, b.get(9) & 0xFF, b.getInt(12) & 0xFFFFFFFFL,
                        slice(data, 16, hl), slice(data, 16 + hl, dhvlen));
            }
            case ID_REPLY -> {
                int dhvlen = b.getShort(10) & 0xFFFF;
                need(data, 16 + 2 * hl + dhvlen, "DH-HMAC-CHAP_Reply");
                boolean cvalid = (b.get(8) & 1) != 0;
                return new Reply(tid, slice(data, 16, hl), cvalid ? slice(data, 16 + hl, hl) : null, b.getInt(12) & 0xFFFFFFFFL,
                        slice(data, 16 + 2 * hl, dhvlen));
            }
            case ID_SUCCESS1 -> {
                boolean rvalid = (b.get(8) & 1) != 0;
                if (rvalid) {
                    need(data, 16 + hl, "DH-HMAC-CHAP_Success1");
                }
                return new Success1(tid, hl, rvalid ? slice(data, 16, hl) : null);
            }
            case ID_SUCCESS2 -> {
                return new Success2(tid);
            }
            default -> throw new DhchapException(DhchapException.INCORRECT_MESSAGE, "DH-HMAC-CHAP message id 0x" + Integer.toHexString(id));
        }
    }

    private static void need(byte[] data, int size, String what) throws DhchapException {
        if (data.length < size) {
            throw new DhchapException(DhchapException.INCORRECT_PAYLOAD, what + " of " + data.length + " bytes, its lengths say " + size);
        }
    }

    private static byte[] slice(byte[] data, int at, int len) {
        return java.util.Arrays.copyOfRange(data, at, at + len);
    }
}
