package io.javastor.csi.node;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The kernel NVMe/TCP initiator: /dev/nvme-fabrics for connects ({@link FabricsConnect}), nvme-cli for disconnect and
 * rescan, sysfs to find what is connected.
 */
public class NvmeCli {
    private static final Pattern NAMESPACE = Pattern.compile("^nvme\\d+n\\d+$");
    private static final Pattern CONTROLLER = Pattern.compile("^nvme\\d+$");
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** Connects block in the kernel; daemon threads, so a stuck one never holds the plugin's exit. */
    private static final ExecutorService CONNECTS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "nvmf-connect");
        t.setDaemon(true);
        return t;
    });
    private final Path sys;
    private final Path fabricsDevice;

    public NvmeCli() {
        this(Path.of("/sys"));
    }

    /** Reading sysfs under {@code sys} (tests: a tree laid out as the kernel's). */
    public NvmeCli(Path sys) {
        this.sys = sys;
        this.fabricsDevice = Path.of("/dev/nvme-fabrics");
    }

    /** An NVMe-oF/TCP target: nvmf://host:port/nqn. */
    public record Target(String host, int port, String nqn) {
        public String uri() {
            return "nvmf://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/" + nqn;
        }

        public static Target parse(String uri) {
            try {
                URI u = new URI(uri);
                String nqn = u.getPath() == null ? "" : u.getPath().replaceFirst("^/", "");
                if (!"nvmf".equals(u.getScheme()) && !"nvmf+tcp".equals(u.getScheme())) {
                    throw new IllegalArgumentException("scheme must be nvmf, got '" + u.getScheme() + "'");
                }
                if (u.getHost() == null || u.getPort() <= 0 || !nqn.startsWith("nqn.")) {
                    throw new IllegalArgumentException("expected nvmf://host:port/nqn..., got '" + uri + "'");
                }
                return new Target(u.getHost(), u.getPort(), nqn);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("not a URI: " + e.getMessage());
            }
        }
    }

    /** Result of a connect. */
    public sealed interface Connect {
        record Connected() implements Connect { }
        record AlreadyConnected() implements Connect { }
        record Failed(String why) implements Connect { }
    }

    public Connect connect(Target t, String hostNqn, int ctrlLossTmoSeconds, int reconnectDelaySeconds) {
        return connect(t, hostNqn, ctrlLossTmoSeconds, reconnectDelaySeconds, Optional.empty());
    }

    /** As above, authenticating with {@code secrets} (DH-HMAC-CHAP, both ways) when there are any. */
    public Connect connect(Target t, String hostNqn, int ctrlLossTmoSeconds, int reconnectDelaySeconds, Optional<HostSecrets.Pair> secrets) {
        if (!liveControllers(t.nqn()).isEmpty()) {
            return new Connect.AlreadyConnected();
        }
        Connect c = connectThroughKernel(new FabricsConnect(t, hostNqn, ctrlLossTmoSeconds, reconnectDelaySeconds, secrets));
        if (c instanceof Connect.Failed && !liveControllers(t.nqn()).isEmpty()) { // a concurrent connect won
            return new Connect.AlreadyConnected();
        }
        return c;
    }

    /**
     * Adds a path: connects to the target even though the subsystem has controllers already (native multipath makes
     * the new controller another path of the same namespace device). Same host NQN and timeouts as the first.
     */
    public Connect addPath(Target t, String hostNqn, int ctrlLossTmoSeconds, int reconnectDelaySeconds) {
        return addPath(t, hostNqn, ctrlLossTmoSeconds, reconnectDelaySeconds, Optional.empty());
    }

    /** As above, authenticating with {@code secrets} when there are any (the same pair as the first path's). */
    public Connect addPath(Target t, String hostNqn, int ctrlLossTmoSeconds, int reconnectDelaySeconds, Optional<HostSecrets.Pair> secrets) {
        return connectThroughKernel(new FabricsConnect(t, hostNqn, ctrlLossTmoSeconds, reconnectDelaySeconds, secrets));
    }

    /**
     * Writes the connect to /dev/nvme-fabrics (secrets stay off command lines). The write blocks in the kernel until it
     * connects or gives up; a connect that has not answered in {@link #TIMEOUT} is reported failed (its thread stays in
     * the kernel until the kernel lets go, as an nvme-cli process would).
     */
    private Connect connectThroughKernel(FabricsConnect request) {
        CompletableFuture<FabricsConnect.Controller> done = CompletableFuture.supplyAsync(() -> {
            try {
                return request.writeTo(fabricsDevice);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, CONNECTS);
        try {
            done.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            return new Connect.Connected();
        } catch (ExecutionException e) {
            Throwable why = e.getCause() instanceof UncheckedIOException u ? u.getCause() : e.getCause();
            String hint = Files.exists(fabricsDevice) ? "" : " (no " + fabricsDevice + ": load the nvme-tcp kernel module)";
            return new Connect.Failed("connect " + request + " through " + fabricsDevice + " failed: " + why.getMessage() + hint);
        } catch (TimeoutException e) {
            return new Connect.Failed("connect " + request + " through " + fabricsDevice + ": no answer from the kernel in " + TIMEOUT.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Connect.Failed("connect " + request + " interrupted");
        }
    }

    /**
     * Whether this kernel's NVMe-oF host has in-band authentication: /dev/nvme-fabrics lists the connect options it
     * takes, dhchap_secret among them when it has (CONFIG_NVME_AUTH / CONFIG_NVME_HOST_AUTH; Debian 12's 6.1 does not).
     */
    public boolean supportsInBandAuthentication() {
        try {
            return Files.readString(fabricsDevice).contains("dhchap_secret");
        } catch (IOException e) {
            return false;
        }
    }

    /** Deletes one controller (one path); the subsystem's other paths stay. */
    public void disconnectController(String controller) {
        Exec.Result r = Exec.run(TIMEOUT, List.of("nvme", "disconnect", "-d", "/dev/" + controller));
        if (!r.ok() && !"gone".equals(controllerState(controller))) {
            throw new IllegalStateException(r.describe());
        }
    }

    /**
     * The ANA state of the controller's path to the subsystem's namespace ("optimized", "inaccessible", ...), from the
     * path device's sysfs (nvmeXcYnZ/ana_state); empty when the kernel shows none.
     */
    public Optional<String> anaState(String controller) {
        Path dir = sys.resolve("class/nvme").resolve(controller);
        return list(dir).filter(n -> n.matches("nvme\\d+c\\d+n\\d+")).sorted().findFirst().flatMap(n -> {
            try {
                return Optional.of(Files.readString(dir.resolve(n).resolve("ana_state")).strip());
            } catch (IOException e) {
                return Optional.empty();
            }
        });
    }

    /** Where a controller connects to, from sysfs ("traddr=A,trsvcid=P,..."): the target's host and port. */
    public Optional<Target> controllerTarget(String controller, String nqn) {
        try {
            String address = Files.readString(sys.resolve("class/nvme").resolve(controller).resolve("address")).strip();
            String host = null;
            int port = -1;
            for (String part : address.split(",")) {
                String[] kv = part.split("=", 2);
                if (kv.length == 2 && kv[0].strip().equals("traddr")) {
                    host = kv[1].strip();
                } else if (kv.length == 2 && kv[0].strip().equals("trsvcid")) {
                    port = Integer.parseInt(kv[1].strip());
                }
            }
            return host == null || port <= 0 ? Optional.empty() : Optional.of(new Target(host, port, nqn));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The NQNs of the subsystems the kernel has, with their prefix. */
    public List<String> subsystems(String nqnPrefix) {
        Path root = sys.resolve("class/nvme-subsystem");
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        return list(root).map(root::resolve).map(d -> {
            try {
                return Files.readString(d.resolve("subsysnqn")).strip();
            } catch (IOException e) {
                return "";
            }
        }).filter(n -> n.startsWith(nqnPrefix)).sorted().toList();
    }

    /** Disconnects every controller of the subsystem; true when something was connected. */
    public boolean disconnect(String nqn) {
        if (subsystemDir(nqn).isEmpty()) {
            return false;
        }
        Exec.Result r = Exec.run(TIMEOUT, List.of("nvme", "disconnect", "-n", nqn));
        if (!r.ok() && subsystemDir(nqn).isPresent()) {
            throw new IllegalStateException(r.describe());
        }
        return true;
    }

    /** Re-reads namespace sizes on every controller of the subsystem (after the target grew the namespace). */
    public void rescan(String nqn) {
        for (String c : controllers(nqn)) {
            Exec.Result r = Exec.run(TIMEOUT, List.of("nvme", "ns-rescan", "/dev/" + c));
            if (!r.ok()) {
                throw new IllegalStateException(r.describe());
            }
        }
    }

    /** The namespace (multipath head) block device of the subsystem, when it is there. */
    public Optional<Path> namespaceDevice(String nqn) {
        return subsystemDir(nqn).flatMap(dir -> list(dir).filter(n -> NAMESPACE.matcher(n).matches()).sorted().findFirst())
                .map(n -> Path.of("/dev", n));
    }

    /** Size in bytes of a block device, from sysfs. */
    public long sizeBytes(Path device) {
        Path f = sys.resolve("class/block").resolve(device.getFileName().toString()).resolve("size");
        try {
            return Long.parseLong(Files.readString(f).strip()) * 512L;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The namespace's size as its controller reports it now: Identify Namespace (NVMe base spec 5.17.2.1: NSZE logical
     * blocks of the format FLBAS selects, 2^LBADS bytes each), asked through the device with nvme-cli. Unlike the
     * kernel's size, which follows a grown namespace only after a notice or a rescan, this is the target's answer at
     * once. Empty when it cannot be asked (no live path) or the answer cannot be read.
     */
    public OptionalLong namespaceBytesAtTarget(Path device) {
        Exec.Result r = Exec.run(TIMEOUT, List.of("nvme", "id-ns", device.toString(), "--output-format=json"));
        return r.ok() ? identifyNamespaceBytes(r.out()) : OptionalLong.empty();
    }

    /** NSZE x 2^LBADS of the LBA format in use, from nvme-cli's JSON of an Identify Namespace. */
    static OptionalLong identifyNamespaceBytes(String json) {
        try {
            JsonNode ns = JSON.readTree(json);
            JsonNode nsze = ns.path("nsze");
            JsonNode flbasField = ns.path("flbas");
            JsonNode formats = ns.path("lbafs");
            if (!nsze.canConvertToLong() || !flbasField.canConvertToInt() || !formats.isArray()) {
                return OptionalLong.empty();
            }
            // FLBAS bits 3:0 select the format, bits 6:5 are its upper bits when there are more than 16 formats.
            int flbas = flbasField.asInt();
            int index = (flbas & 0xF) | ((flbas >> 5) & 0x3) << 4;
            JsonNode lbads = formats.path(index).path("ds");
            if (!lbads.canConvertToInt() || lbads.asInt() < 9 || lbads.asInt() > 20) {
                return OptionalLong.empty();
            }
            return OptionalLong.of(nsze.asLong() << lbads.asInt());
        } catch (JacksonException e) {
            return OptionalLong.empty();
        }
    }

    /** "major:minor" of a block device, from sysfs. */
    public Optional<String> majorMinor(Path device) {
        Path f = sys.resolve("class/block").resolve(device.getFileName().toString()).resolve("dev");
        try {
            return Optional.of(Files.readString(f).strip());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public boolean blockDeviceExists(String majorMinor) {
        return Files.exists(sys.resolve("dev/block").resolve(majorMinor));
    }

    /**
     * Every NVMe controller the kernel has, with its state, subsystem and address ("nvme0 connecting subsys=... at
     * traddr=..."): what an error about a missing device should show, since a controller left reconnecting by an
     * earlier connect is otherwise invisible.
     */
    public String describeControllers() {
        Path root = sys.resolve("class/nvme");
        List<String> out = list(root).sorted().map(c -> c + " " + controllerState(c) + " subsys=" + read(root.resolve(c).resolve("subsysnqn"))
                + " at " + read(root.resolve(c).resolve("address"))).toList();
        return out.isEmpty() ? "none" : String.join("; ", out);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            return "?";
        }
    }

    public List<String> controllers(String nqn) {
        return subsystemDir(nqn).map(dir -> list(dir).filter(n -> CONTROLLER.matcher(n).matches()).sorted().toList()).orElse(List.of());
    }

    public List<String> liveControllers(String nqn) {
        return controllers(nqn).stream().filter(c -> "live".equals(controllerState(c))).toList();
    }

    public String controllerState(String controller) {
        try {
            return Files.readString(sys.resolve("class/nvme").resolve(controller).resolve("state")).strip();
        } catch (IOException e) {
            return "gone";
        }
    }

    public Optional<Path> subsystemDir(String nqn) {
        Path root = sys.resolve("class/nvme-subsystem");
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        return list(root).map(root::resolve).filter(d -> {
            try {
                return nqn.equals(Files.readString(d.resolve("subsysnqn")).strip());
            } catch (IOException e) {
                return false;
            }
        }).findFirst();
    }

    private static Stream<String> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList().stream();
        } catch (IOException e) {
            return Stream.empty();
        }
    }
}
