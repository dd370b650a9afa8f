package io.javastor.api.nvmf;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * The rule for a host NQN that may be named in an allow-list (a volume's target, a nexus or replica share): NVMe
 * Base 4.7 (NVMe Qualified Names) says "nqn." and at most 223 bytes; we also refuse ',' and control characters, which
 * the Linux host's connect options (','-separated, written to /dev/nvme-fabrics) would read as more options. One rule
 * for the core agent, the REST gateway and the CSI node plugin.
 */
public final class HostNqn {
    public static final int MAX_BYTES = 223;

    private HostNqn() {
    }

    /** Why {@code nqn} is not a host NQN we accept, or empty when it is. */
    public static Optional<String> whyNot(String nqn) {
        if (nqn == null || nqn.isEmpty()) {
            return Optional.of("'' is not a host NQN: it is empty");
        }
        String shown = "'" + nqn.replaceAll("\\p{Cntrl}", "?") + "' is not a host NQN: ";
        if (!nqn.startsWith("nqn.")) {
            return Optional.of(shown + "it does not start with nqn.");
        }
        if (nqn.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
            return Optional.of(shown + "it is longer than " + MAX_BYTES + " bytes");
        }
        if (nqn.indexOf(',') >= 0 || nqn.chars().anyMatch(c -> Character.isISOControl(c) || Character.isWhitespace(c))) {
            return Optional.of(shown + "it holds ',', a space or a control character");
        }
        return Optional.empty();
    }

    /** The first host of {@code hosts} that is not acceptable, with why; empty when all are (an empty list is, too). */
    public static Optional<String> firstProblem(List<String> hosts) {
        for (int i = 0; i < hosts.size(); i++) {
            Optional<String> why = whyNot(hosts.get(i));
            if (why.isPresent()) {
                return Optional.of(why.get());
            }
        }
        return Optional.empty();
    }

    /**
     * Why {@code hosts} cannot be an allow-list, or empty when it can: it must name at least one host (a share open to
     * every host would admit any initiator on the network, unauthenticated), each acceptable.
     */
    public static Optional<String> problemNaming(List<String> hosts) {
        if (hosts.isEmpty()) {
            return Optional.of("name the hosts that may connect (host NQNs): nothing is shared to every host, since "
                    + "each named host authenticates with its own DH-HMAC-CHAP secrets");
        }
        return firstProblem(hosts);
    }
}
