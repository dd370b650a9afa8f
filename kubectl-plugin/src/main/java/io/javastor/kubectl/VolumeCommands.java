package io.javastor.kubectl;

import static io.javastor.kubectl.RestConnection.segment;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

/** Changes to a volume: its replica count and its size. */
final class VolumeCommands {
    private static final Set<String> VOLUME = Set.of("volume");

    private VolumeCommands() {
    }

    @Command(name = "scale", mixinStandardHelpOptions = true, description = "Set a volume's replica count: scale volume ID N.")
    static final class Scale extends TargetedCommand implements Callable<Integer> {
        @Parameters(index = "2", paramLabel = "N", description = "replicas wanted (1 or more)")
        int replicas;

        @Override
        public Integer call() {
            kind(VOLUME);
            if (replicas < 1) {
                throw new IllegalArgumentException("N must be at least 1, got " + replicas);
            }
            JsonNode v = root.connect().put("/v0/volumes/" + segment(id) + "/replica_count/" + replicas, null);
            out().println("volume " + id + " scaled to " + v.path("spec").path("num_replicas").asString() + " replica(s)");
            return 0;
        }
    }

    @Command(name = "resize", mixinStandardHelpOptions = true, description = "Grow a volume: resize volume ID SIZE (bytes, or 10Gi, 512Mi ...).")
    static final class Resize extends TargetedCommand implements Callable<Integer> {
        private static final Pattern SIZE = Pattern.compile("(\\d+)(Ki|Mi|Gi|Ti)?");
        @Parameters(index = "2", paramLabel = "SIZE")
        String size;

        @Override
        public Integer call() {
            kind(VOLUME);
            long bytes = parseSize(size);
            JsonNode v = root.connect().put("/v0/volumes/" + segment(id) + "/size", Map.of("size", bytes));
            out().println("volume " + id + " resized to " + Output.bytes(v.path("spec").path("size")));
            return 0;
        }

        static long parseSize(String text) {
            Matcher m = SIZE.matcher(text);
            if (!m.matches()) {
                throw new IllegalArgumentException("SIZE '" + text + "': give bytes or a binary quantity such as 10Gi, 512Mi");
            }
            int shift = m.group(2) == null ? 0 : switch (m.group(2)) {
                case "Ki" -> 10;
                case "Mi" -> 20;
                case "Gi" -> 30;
                default -> 40;
            };
            try {
                return Math.multiplyExact(Long.parseLong(m.group(1)), 1L << shift);
            } catch (ArithmeticException | NumberFormatException e) {
                throw new IllegalArgumentException("SIZE '" + text + "' is too large");
            }
        }
    }
}
