package io.javastor.csi;

import org.springframework.boot.context.properties.ConfigurationProperties;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code javastor.csi.*}: which side this process plays and how it reaches the rest of the system. */
// Unknown keys fail the start: a misspelt setting in a chart or compose file must not be silently ignored.
@ConfigurationProperties(prefix = "javastor.csi", ignoreUnknownFields = false)
public class CsiProperties {
    public enum Mode { CONTROLLER, NODE }

    /** controller or node. */
    private Mode mode = Mode.CONTROLLER;
    /** The unix socket to serve CSI on, a path or unix:///path (as the sidecars write it); default $JAVASTOR_HOME/csi-{mode}.sock. */
    private String endpoint;
    /** The CSI driver name (GetPluginInfo); the CSIDriver object and the StorageClass provisioner must say the same. */
    private String driverName = "io.javastor.csi";
    /** The node id reported by NodeGetInfo (the Kubernetes node name); default: the host name. */
    private String nodeName;
    /** Controller: the REST gateway's base URL (without /v0). */
    private String restUrl = "https://127.0.0.1:8081";
    /** Controller: a file holding the REST gateway bearer token (an operator's; in Kubernetes the ServiceAccount token), read per call. */
    private java.nio.file.Path restTokenFile;
    /** The cluster CA (PEM) the REST gateway's HTTPS certificate must chain to; required for an https:// rest-url. */
    private java.nio.file.Path restCaFile;
    /** Controller: timeout of one REST call. */
    private Duration restTimeout = Duration.ofSeconds(30);
    /** Controller: the size of a volume whose CreateVolume names no capacity. */
    private long defaultVolumeSize = 1L << 30;
    /** Node: the most volumes this node takes (0: the CO decides). */
    private long maxVolumesPerNode = 0;
    /** Node: extra topology segments this node reports (e.g. zone), besides io.javastor/nodename and io.javastor/csi-node. */
    private Map<String, String> topology = new LinkedHashMap<>();
    /** Node: the core agent's gRPC address (host:port or a dns:/// target); its path agent reports lost paths there. Empty: no path agent. */
    private String coreAgentAddress = "";
    /** Node: how often the path agent looks at the node's NVMe controllers. */
    private Duration pathCheckInterval = Duration.ofMillis(500);
    /** Node: how long a volume may have no live path before the path agent reports it lost. */
    private Duration pathFailAfter = Duration.ofSeconds(1);
    /** Node: how long the path agent waits for the core agent to answer a report (a move takes seconds). */
    private Duration pathReportTimeout = Duration.ofSeconds(60);
    /** Node: the endpoint registered for this app node (GET /v0/app-nodes); default: unix://&lt;the CSI socket&gt;. */
    private String appNodeEndpoint;
    /** Node: after a registration succeeded, it is made again this often (a registration removed meanwhile comes back). */
    private Duration appNodeRefreshInterval = Duration.ofMinutes(5);
    /** Node: a failed registration is tried again after 1 s, doubling up to this. */
    private Duration appNodeMaxRetryDelay = Duration.ofSeconds(30);
    /** Node: how long to wait for the namespace block device after nvme connect. */
    private Duration deviceTimeout = Duration.ofSeconds(30);
    /** Node: NVMe keep-alive reconnect delay in seconds (nvme connect --reconnect-delay). */
    private int reconnectDelaySeconds = 2;
    /** Node: default controller-loss timeout in seconds, when the volume names no ioTimeout. */
    private int ctrlLossTimeoutSeconds = 1800;

    /** The address of the Prometheus /metrics page (CSI call meters); loopback unless the chart opens it to the pod network. */
    private String metricsAddress = "127.0.0.1";
    /** The port of the /metrics page; unset: no metrics page (the meters are still kept); 0: any free port. */
    private Integer metricsPort;

    public Path socketPath() {
        if (endpoint != null && !endpoint.isBlank()) {
            return Path.of(endpoint.startsWith("unix://") ? endpoint.substring("unix://".length()) : endpoint);
        }
        String home = System.getenv().getOrDefault("JAVASTOR_HOME", "/tmp/javastor");
        return Path.of(home, "csi-" + mode.name().toLowerCase() + ".sock");
    }

    /** The endpoint this node plugin registers as an app node. */
    public String appNodeEndpointOrDefault() {
        if (appNodeEndpoint != null && !appNodeEndpoint.isBlank()) {
            return appNodeEndpoint;
        }
        return "unix://" + socketPath().toAbsolutePath();
    }

    public String nodeId() {
        if (nodeName != null && !nodeName.isBlank()) {
            return nodeName;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return System.getenv().getOrDefault("HOSTNAME", "localhost");
        }
    }

    public String getMetricsAddress() { return metricsAddress; }
    public void setMetricsAddress(String metricsAddress) { this.metricsAddress = metricsAddress; }
    public Integer getMetricsPort() { return metricsPort; }
    public void setMetricsPort(Integer metricsPort) { this.metricsPort = metricsPort; }
    public Mode getMode() { return mode; }
    public void setMode(Mode mode) { this.mode = mode; }
    public String getEndpoint() { return endpoint; }
    public void setEndpoint(String endpoint) { this.endpoint = endpoint; }
    public String getDriverName() { return driverName; }
    public void setDriverName(String driverName) { this.driverName = driverName; }
    public String getNodeName() { return nodeName; }
    public void setNodeName(String nodeName) { this.nodeName = nodeName; }
    public String getRestUrl() { return restUrl; }
    public void setRestUrl(String restUrl) { this.restUrl = restUrl; }
    public java.nio.file.Path getRestTokenFile() { return restTokenFile; }
    public java.nio.file.Path getRestCaFile() { return restCaFile; }
    public void setRestCaFile(java.nio.file.Path restCaFile) { this.restCaFile = restCaFile; }
    public void setRestTokenFile(java.nio.file.Path restTokenFile) { this.restTokenFile = restTokenFile; }
    public Duration getRestTimeout() { return restTimeout; }
    public void setRestTimeout(Duration restTimeout) { this.restTimeout = restTimeout; }
    public long getDefaultVolumeSize() { return defaultVolumeSize; }
    public void setDefaultVolumeSize(long defaultVolumeSize) { this.defaultVolumeSize = defaultVolumeSize; }
    public long getMaxVolumesPerNode() { return maxVolumesPerNode; }
    public void setMaxVolumesPerNode(long maxVolumesPerNode) { this.maxVolumesPerNode = maxVolumesPerNode; }
    public Map<String, String> getTopology() { return topology; }
    public void setTopology(Map<String, String> topology) { this.topology = topology; }
    public String getAppNodeEndpoint() { return appNodeEndpoint; }
    public void setAppNodeEndpoint(String appNodeEndpoint) { this.appNodeEndpoint = appNodeEndpoint; }
    public Duration getAppNodeRefreshInterval() { return appNodeRefreshInterval; }
    public void setAppNodeRefreshInterval(Duration appNodeRefreshInterval) { this.appNodeRefreshInterval = appNodeRefreshInterval; }
    public Duration getAppNodeMaxRetryDelay() { return appNodeMaxRetryDelay; }
    public void setAppNodeMaxRetryDelay(Duration appNodeMaxRetryDelay) { this.appNodeMaxRetryDelay = appNodeMaxRetryDelay; }
    public Duration getDeviceTimeout() { return deviceTimeout; }
    public void setDeviceTimeout(Duration deviceTimeout) { this.deviceTimeout = deviceTimeout; }
    public String getCoreAgentAddress() { return coreAgentAddress; }
    public void setCoreAgentAddress(String coreAgentAddress) { this.coreAgentAddress = coreAgentAddress; }
    public Duration getPathCheckInterval() { return pathCheckInterval; }
    public void setPathCheckInterval(Duration pathCheckInterval) { this.pathCheckInterval = pathCheckInterval; }
    public Duration getPathFailAfter() { return pathFailAfter; }
    public void setPathFailAfter(Duration pathFailAfter) { this.pathFailAfter = pathFailAfter; }
    public Duration getPathReportTimeout() { return pathReportTimeout; }
    public void setPathReportTimeout(Duration pathReportTimeout) { this.pathReportTimeout = pathReportTimeout; }
    public int getReconnectDelaySeconds() { return reconnectDelaySeconds; }
    public void setReconnectDelaySeconds(int reconnectDelaySeconds) { this.reconnectDelaySeconds = reconnectDelaySeconds; }
    public int getCtrlLossTimeoutSeconds() { return ctrlLossTimeoutSeconds; }
    public void setCtrlLossTimeoutSeconds(int ctrlLossTimeoutSeconds) { this.ctrlLossTimeoutSeconds = ctrlLossTimeoutSeconds; }
}
