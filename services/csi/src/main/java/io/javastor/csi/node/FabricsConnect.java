package io.javastor.csi.node;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One connect through the Linux NVMe-oF host: the options written to {@code /dev/nvme-fabrics}, as nvme-cli does, but
 * from this process, so DH-HMAC-CHAP secrets never sit on a command line ({@code /proc/PID/cmdline} is readable by
 * every user of the node). The kernel splits the options at ',' and newlines (drivers/nvme/host/fabrics.c,
 * nvmf_parse_options), so a value holding either is refused: it could smuggle in options of its own.
 */
public record FabricsConnect(NvmeCli.Target target, String hostNqn, int ctrlLossTmoSeconds, int reconnectDelaySeconds,
        Optional<HostSecrets.Pair> secrets) {
    /** The kernel's answer to a connect: the controller it made (nvmeN) and its controller id. */
    public record Controller(String name, int cntlid) {
    }

    private static final Pattern ANSWER = Pattern.compile("instance=(\\d+),cntlid=(\\d+)");

    public FabricsConnect {
        for (var v : List.of(target.host(), target.nqn(), hostNqn == null ? "" : hostNqn)) {
            requireOptionValue(v);
        }
        secrets.ifPresent(p -> {
            requireOptionValue(p.host());
            requireOptionValue(p.controller());
        });
    }

    /** The option string; the host id is {@link #hostId}'s. */
    public String options() {
        List<String> o = new ArrayList<>(List.of("transport=tcp", "traddr=" + target.host(), "trsvcid=" + target.port(),
                "nqn=" + target.nqn(), "ctrl_loss_tmo=" + ctrlLossTmoSeconds, "reconnect_delay=" + reconnectDelaySeconds));
        if (hostNqn != null) {
            o.add("hostnqn=" + hostNqn);
            o.add("hostid=" + hostId(hostNqn));
        }
        secrets.ifPresent(p -> {
            o.add("dhchap_secret=" + p.host());
            if (!p.controller().isEmpty()) {
                o.add("dhchap_ctrl_secret=" + p.controller()); // bidirectional: the host checks the target too
            }
        });
        return String.join(",", o);
    }

    /**
     * Writes the options to the fabrics device and reads the kernel's answer from the same open file. The write blocks
     * until the controller is live or the kernel gives up (its errno is the IOException's message: "Required key not
     * available" for a refused authentication, "Connection refused", ...).
     */
    public Controller writeTo(Path fabricsDevice) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(fabricsDevice.toFile(), "rw")) {
            f.write(options().getBytes(StandardCharsets.US_ASCII));
            byte[] buf = new byte[256];
            int n = f.read(buf);
            String answer = n <= 0 ? "" : new String(buf, 0, n, StandardCharsets.US_ASCII).strip();
            Matcher m = ANSWER.matcher(answer);
            if (!m.find()) {
                throw new IOException("the kernel connected but answered '" + answer + "', not instance=N,cntlid=M");
            }
            return new Controller("nvme" + m.group(1), Integer.parseInt(m.group(2)));
        }
    }

    /**
     * The host id every connect of {@code hostNqn} presents, derived from it: Linux refuses a second connect with the
     * same NQN and another id, and nvme-cli makes one up when the node has no /etc/nvme/hostid.
     */
    public static UUID hostId(String hostNqn) {
        return UUID.nameUUIDFromBytes(hostNqn.getBytes(StandardCharsets.UTF_8));
    }

    private static void requireOptionValue(String v) {
        if (v.indexOf(',') >= 0 || v.indexOf('\n') >= 0 || v.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("an NVMe-oF connect option may not hold ',' or control characters (the"
                    + " kernel would read the rest as options of its own): '" + (v.startsWith("DHHC-") ? "DHHC-(hidden)" : v) + "'");
        }
    }

    @Override
    public String toString() { // no secrets in logs or errors
        return "FabricsConnect[" + target.uri() + " as " + hostNqn + (secrets.isPresent() ? " with DH-HMAC-CHAP" : "") + "]";
    }
}
