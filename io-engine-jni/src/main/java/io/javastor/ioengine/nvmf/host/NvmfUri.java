package io.javastor.ioengine.nvmf.host;

import java.net.URI;

/** {@code nvmf://host:port/nqn} (port defaults to 4420, the IANA NVMe-oF port). */
public record NvmfUri(String host, int port, String nqn) {
    public static NvmfUri parse(String text) {
        URI u;
        try {
            u = URI.create(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid NVMe-oF URI '" + text + "': " + e.getMessage());
        }
        if (!"nvmf".equals(u.getScheme()) || u.getHost() == null || u.getPath() == null || u.getPath().length() < 2) {
            throw new IllegalArgumentException("invalid NVMe-oF URI '" + text + "': expected nvmf://host:port/nqn");
        }
        String nqn = u.getPath().substring(1);
        if (!nqn.startsWith("nqn.")) {
            throw new IllegalArgumentException("invalid NVMe-oF URI '" + text + "': the path must be an NQN");
        }
        return new NvmfUri(u.getHost(), u.getPort() < 0 ? 4420 : u.getPort(), nqn);
    }

    public String text() {
        return "nvmf://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/" + nqn;
    }
}
