package io.javastor.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import io.javastor.api.tls.ClusterPeer;
import io.javastor.gateway.security.ApiRole;
import io.javastor.gateway.testsupport.RunningGateway.Reply;
import io.javastor.gateway.testsupport.StorageCluster;
import io.javastor.testsupport.ClusterCertificates;

/**
 * The web dashboard at /ui, driven in Debian's headless Chromium (through chromium-driver) against a real cluster of
 * its own (etcd, core agent, three io-engine processes, the gateway with HTTPS and authentication on): signing in,
 * the overview with the real nodes, pools and volumes, a volume created through the form (and the API's message for
 * bad input), its page, scaled from there, a node cordoned, a role too small refused, and a killed io-engine shown Offline without a reload;
 * and a published volume resized, scaled with its rebuild shown, its target's node drained, labels on a node and a
 * pool, and the volume deleted. Each test leaves the cluster as it found it (the browser's sign-in too), so their
 * order does not matter. Screenshots of each step, and the page's text, go to target/dashboard/.
 */
class DashboardTest {

    /** Its own cluster: this test kills a node, which no other test class should see. */
    @RegisterExtension
    static final StorageCluster cluster = StorageCluster.ofItsOwn();

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path OUT = Path.of("target", "dashboard");

    private static WebDriver browser;
    private static Path profile;

    @BeforeAll
    static void startBrowser() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
                "SKIPPED: no /usr/bin/chromium or /usr/bin/chromedriver (apt-get install -y chromium chromium-driver; ./javastor test installs them)");
        Files.createDirectories(OUT);
        profile = Files.createTempDirectory("javastor-dashboard-chromium-");
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile())
                // --no-sandbox: the tests run as root in CI, where Chromium's sandbox refuses to start.
                .addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1800",
                        "--user-data-dir=" + profile,
                        // HTTPS with a certificate from the tests' cluster CA, which Chromium does not trust: accept that key only.
                        "--ignore-certificate-errors-spki-list=" + gatewayKeyPin());
        ChromeDriverService driver = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
                .withLogFile(OUT.resolve("chromedriver.log").toFile()).build();
        browser = new ChromeDriver(driver, options);
    }

    @AfterAll
    static void stopBrowser() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        if (profile != null) {
            try (var paths = Files.walk(profile)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void showsTheClusterRunsActionsAndFollowsANodeGoingOffline() throws Exception {
        String existing = UUID.randomUUID().toString();
        Reply made = cluster.gateway().put("/v0/volumes/" + existing,
                Map.of("size", 32L << 20, "replicas", 3, "thin", true, "policy", Map.of("self_heal", true)));
        assertThat(made.status()).as("%s", made).isEqualTo(200);

        // Signing in: a bad token gets the API's answer; an admin's opens the overview.
        browser.get(cluster.gateway().baseUrl() + "/ui");
        assertThat(browser.getCurrentUrl()).endsWith("/ui/");
        signOutIfSignedIn();
        signIn("not-a-token");
        eventually().untilAsserted(() -> assertThat(text("#sign-in-error")).contains("The API did not accept the token"));
        signIn(cluster.gateway().token(ApiRole.ADMIN));

        // The overview: the real nodes, pools and volumes.
        for (String node : StorageCluster.NODES) {
            eventually().untilAsserted(() -> assertThat(state("#nodes tr[data-node='" + node + "']")).isEqualTo("Online"));
            assertThat(text("#pools tr[data-pool='" + StorageCluster.poolOf(node) + "']")).contains(node, "MiB");
        }
        eventually().untilAsserted(() -> assertThat(state("#volumes tr[data-volume='" + existing + "']")).isEqualTo("Online"));
        assertThat(count("#volumes-by-state", "Online")).isEqualTo(1);
        screenshot("1-overview");

        // Creating a volume: bad input gets the API's own validation message, good input a volume.
        browser.findElement(By.cssSelector("nav a[data-page='volumes']")).click();
        String created = UUID.randomUUID().toString();
        WebElement form = eventually().until(() -> browser.findElement(By.cssSelector("form[name='create-volume']")), f -> true);
        type(form, "id", created);
        type(form, "size", "48");
        form.findElement(By.cssSelector("select[name='size-unit'] option[value='MiB']")).click();
        type(form, "replicas", "17");
        form.findElement(By.name("create")).click();
        eventually().untilAsserted(() -> assertThat(text("[data-form='create-volume']"))
                .isEqualTo("InvalidArgument: replicas: must be 1..16, got 17"));
        assertThat(cluster.gateway().get("/v0/volumes/" + created).status()).as("nothing was created").isEqualTo(404);
        screenshot("2-create-volume-refused");
        type(form, "replicas", "2");
        form.findElement(By.name("create")).click();
        eventually().untilAsserted(() -> assertThat(text("[data-form='create-volume']")).isEqualTo("created volume " + created));
        Reply volume = cluster.gateway().get("/v0/volumes/" + created);
        assertThat(volume.status()).as("%s", volume).isEqualTo(200);
        assertThat(volume.json().path("spec").path("num_replicas").asInt()).isEqualTo(2);
        assertThat(volume.json().path("spec").path("size").asLong()).isEqualTo(48L << 20);
        eventually().untilAsserted(() -> assertThat(browser.findElements(By.cssSelector("#volumes tr[data-volume]"))).hasSize(2));
        screenshot("3-volume-created");

        // The volume's page: its replicas (one row each, where the agent placed them) and its events.
        browser.findElement(By.cssSelector("#volumes tr[data-volume='" + created + "'] a")).click();
        eventually().untilAsserted(() -> assertThat(browser.findElements(By.cssSelector("#replicas tr[data-replica]"))).hasSize(2));
        for (var replica : volume.json().path("state").path("replica_topology").properties()) {
            assertThat(text("#replicas tr[data-replica='" + replica.getKey() + "']"))
                    .contains(replica.getValue().path("node").asString(), replica.getValue().path("pool").asString());
        }
        assertThat(text("#summary")).contains("48.0 MiB", "2 of 2", "thin");
        assertThat(text("#target")).contains("not published");
        assertThat(text("#snapshots")).contains("no snapshots");
        int events = cluster.gateway().get("/v0/events?resource_id=" + created + "&page_size=50").json().path("entries").size();
        eventually().untilAsserted(() -> assertThat(browser.findElements(By.cssSelector("#events li")).size())
                .isGreaterThanOrEqualTo(events));
        screenshot("4-volume");

        // Scaling it from its page: a third replica, placed by the agent, appears without a reload.
        WebElement scale = browser.findElement(By.cssSelector("form[name='scale-volume']"));
        type(scale, "replicas", "3");
        scale.findElement(By.name("scale")).click();
        eventually().untilAsserted(() -> assertThat(text("[data-form='scale-volume']")).isEqualTo("replica count set to 3"));
        assertThat(cluster.gateway().get("/v0/volumes/" + created).json().path("spec").path("num_replicas").asInt()).isEqualTo(3);
        eventually().untilAsserted(() -> assertThat(browser.findElements(By.cssSelector("#replicas tr[data-replica]"))).hasSize(3));

        // Cordoning a node: the cluster changes, and the page shows it.
        browser.findElement(By.cssSelector("nav a[data-page='nodes']")).click();
        WebElement actions = eventually().until(() -> browser.findElement(By.cssSelector("form[name='node-action']")), f -> true);
        type(actions, "node", "node-2");
        type(actions, "label", "maintenance");
        actions.findElement(By.name("cordon")).click();
        eventually().untilAsserted(() -> assertThat(text("[data-form='node-action']")).isEqualTo("cordoned with maintenance"));
        assertThat(cluster.gateway().get("/v0/nodes/node-2").json().path("spec").path("cordondrainstate").path("cordonedstate")
                .path("cordonlabels").toString()).contains("maintenance");
        eventually().untilAsserted(() -> assertThat(text("#nodes tr[data-node='node-2']")).contains("Cordoned", "maintenance"));
        screenshot("5-node-cordoned");

        // A viewer sees everything and changes nothing: the API's refusal is shown as it is.
        browser.findElement(By.id("sign-out")).click();
        signIn(cluster.gateway().token(ApiRole.VIEWER));
        WebElement viewerActions = eventually().until(() -> browser.findElement(By.cssSelector("form[name='node-action']")), f -> true);
        type(viewerActions, "node", "node-2");
        type(viewerActions, "label", "maintenance");
        viewerActions.findElement(By.name("uncordon")).click();
        eventually().untilAsserted(() -> assertThat(text("[data-form='node-action']"))
                .startsWith("Forbidden: DELETE /v0/nodes/node-2/cordon/maintenance needs role admin"));
        assertThat(cluster.gateway().get("/v0/nodes/node-2").json().path("spec").path("cordondrainstate").path("cordonedstate")
                .path("cordonlabels").toString()).as("still cordoned").contains("maintenance");

        // A killed io-engine: the page, left open, shows its node Offline within seconds.
        eventually().untilAsserted(() -> assertThat(state("#nodes tr[data-node='node-3']")).isEqualTo("Online"));
        long killed = System.nanoTime();
        cluster.engine("node-3").kill9();
        Awaitility.await("node-3 shown Offline").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                .untilAsserted(() -> assertThat(state("#nodes tr[data-node='node-3']")).isEqualTo("Offline"));
        Duration shown = Duration.ofNanos(System.nanoTime() - killed);
        System.out.printf("node-3 killed: shown Offline by the dashboard after %d ms (agent heartbeat timeout 3 s, page polls every 2 s)%n",
                shown.toMillis());
        assertThat(count("#nodes", "Offline")).isEqualTo(1);
        assertThat(state("#nodes tr[data-node='node-1']")).isEqualTo("Online");
        screenshot("6-node-offline");

        // Left as found for the other test: node-2 schedulable, node-3 back.
        assertThat(cluster.gateway().delete("/v0/nodes/node-2/cordon/maintenance").status()).isEqualTo(200);
        cluster.engine("node-3").start();
        Awaitility.await("node-3 Online again").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> "Online".equals(node("node-3").path("state").path("status").asString()));
    }

    /**
     * The actions on a published volume's page and on the pools and nodes pages, each checked in the cluster: a resize
     * (a shrink refused with the API's message), a scale whose new replica is rebuilt (the rebuild shown), the target
     * node drained (the target shown moving), labels put on and taken off a node and a pool, and a delete that wants
     * its box ticked. Uses only nodes the agent reports Online, so it holds whether or not the other test killed one.
     */
    @Test
    void aPublishedVolumesPageResizesScalesDrainsAndDeletesAndNodesAndPoolsTakeLabels() throws Exception {
        String id = UUID.randomUUID().toString();
        Reply made = cluster.gateway().put("/v0/volumes/" + id, Map.of("size", 32L << 20, "replicas", 1, "thin", true,
                "policy", Map.of("self_heal", true)));
        assertThat(made.status()).as("%s", made).isEqualTo(200);
        Reply published = cluster.gateway().put("/v0/volumes/" + id + "/target", Map.of("protocol", "nvmf", "publish_context", Map.of(),
                "frontend_node", "app-1"));
        assertThat(published.status()).as("%s", published).isEqualTo(200);
        String from = targetNode(id);

        signInFresh(cluster.gateway().token(ApiRole.ADMIN));
        browser.get(cluster.gateway().baseUrl() + "/ui/#/volumes/" + id);
        eventually().untilAsserted(() -> assertThat(text("#target")).contains(from));
        assertThat(state("#target")).isEqualTo("Online");

        // Resizing: a shrink gets the API's refusal and changes nothing; growing shows the new size.
        WebElement resize = browser.findElement(By.cssSelector("form[name='resize-volume']"));
        type(resize, "size", "16");
        resize.findElement(By.cssSelector("select[name='size-unit'] option[value='MiB']")).click();
        resize.findElement(By.name("resize")).click();
        eventually().untilAsserted(() -> assertThat(text("[data-form='resize-volume']"))
                .startsWith("InvalidArgument: size: volumes only grow"));
        assertThat(volume(id).path("spec").path("size").asLong()).isEqualTo(32L << 20);
        type(resize, "size", "64");
        resize.findElement(By.name("resize")).click();
        eventually().untilAsserted(() -> assertThat(text("[data-form='resize-volume']")).isEqualTo("size set to 64.0 MiB"));
        assertThat(volume(id).path("spec").path("size").asLong()).isEqualTo(64L << 20);
        eventually().untilAsserted(() -> assertThat(text("#summary")).contains("64.0 MiB"));

        // Scaling to two: the new replica joins the target through a rebuild, which the page shows to its end.
        WebElement scale = browser.findElement(By.cssSelector("form[name='scale-volume']"));
        type(scale, "replicas", "2");
        scale.findElement(By.name("scale")).click();
        eventually().untilAsserted(() -> assertThat(text("[data-form='scale-volume']")).isEqualTo("replica count set to 2"));
        eventually().untilAsserted(() -> assertThat(browser.findElements(By.cssSelector("#replicas tr[data-replica]"))).hasSize(2));
        Awaitility.await("the rebuild shown completed").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                .untilAsserted(() -> {
                    WebElement row = browser.findElement(By.cssSelector("#rebuilds tbody tr"));
                    assertThat(row.findElement(By.cssSelector("[data-state]")).getAttribute("data-state")).isEqualTo("Completed");
                    assertThat(row.findElement(By.cssSelector(".bar")).getAttribute("data-percent")).isEqualTo("100");
                    // And both replicas serving in the target (the topology follows the nodes' polled state, a moment behind).
                    assertThat(browser.findElements(By.cssSelector("#replicas tr[data-replica] td:nth-child(5) [data-state]")))
                            .extracting(e -> e.getAttribute("data-state")).containsExactly("Online", "Online");
                });
        screenshot("7-volume-resized-and-rebuilt");

        // Draining the target's node: the target moves to the other replica's node, and the page follows it.
        browser.findElement(By.cssSelector("nav a[data-page='nodes']")).click();
        WebElement actions = eventually().until(() -> browser.findElement(By.cssSelector("form[name='node-action']")), f -> true);
        type(actions, "node", from);
        type(actions, "label", "dashboard-drain");
        actions.findElement(By.name("drain")).click();
        eventually().untilAsserted(() -> assertThat(text("[data-form='node-action']")).isEqualTo("draining with dashboard-drain"));
        Awaitility.await("the target moved off " + from).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> !targetNode(id).equals(from));
        eventually().untilAsserted(() -> assertThat(text("#nodes tr[data-node='" + from + "']")).contains("Drained", "dashboard-drain"));
        screenshot("8-node-drained");
        actions.findElement(By.name("uncordon")).click();
        eventually().untilAsserted(() -> assertThat(text("[data-form='node-action']")).isEqualTo("removed cordon dashboard-drain"));
        assertThat(node(from).path("spec").path("cordondrainstate").isMissingNode() || node(from).path("spec").path("cordondrainstate").isNull())
                .as("%s schedulable again: %s", from, node(from)).isTrue();
        eventually().untilAsserted(() -> assertThat(text("#nodes tr[data-node='" + from + "']")).contains("schedulable"));

        // A node's label, put on and taken off.
        type(actions, "label", "zone=dashboard");
        actions.findElement(By.name("add-label")).click();
        eventually().untilAsserted(() -> assertThat(text("[data-form='node-action']")).isEqualTo("labelled zone=dashboard"));
        assertThat(node(from).path("spec").path("labels").path("zone").asString()).isEqualTo("dashboard");
        eventually().untilAsserted(() -> assertThat(text("#nodes tr[data-node='" + from + "']")).contains("zone=dashboard"));
        type(actions, "label", "zone");
        actions.findElement(By.name("remove-label")).click();
        eventually().untilAsserted(() -> assertThat(text("[data-form='node-action']")).isEqualTo("removed label zone"));
        assertThat(node(from).path("spec").path("labels").has("zone")).isFalse();

        // A pool's label, the same way.
        String pool = StorageCluster.poolOf(from);
        browser.findElement(By.cssSelector("nav a[data-page='pools']")).click();
        WebElement poolForm = eventually().until(() -> browser.findElement(By.cssSelector("form[name='pool-label']")), f -> true);
        type(poolForm, "pool", pool);
        type(poolForm, "label", "tier=fast");
        poolForm.findElement(By.name("add-label")).click();
        eventually().untilAsserted(() -> assertThat(text("[data-form='pool-label']")).isEqualTo("labelled tier=fast"));
        assertThat(cluster.gateway().get("/v0/pools/" + pool).json().path("spec").path("labels").path("tier").asString()).isEqualTo("fast");
        eventually().untilAsserted(() -> assertThat(text("#pools tr[data-pool='" + pool + "']")).contains("tier=fast"));
        screenshot("9-pool-labelled");
        type(poolForm, "label", "tier");
        poolForm.findElement(By.name("remove-label")).click();
        eventually().untilAsserted(() -> assertThat(text("[data-form='pool-label']")).isEqualTo("removed label tier"));
        assertThat(cluster.gateway().get("/v0/pools/" + pool).json().path("spec").path("labels").has("tier")).isFalse();

        // Deleting: not without the box ticked; then the volume is gone and the list page is shown.
        browser.get(cluster.gateway().baseUrl() + "/ui/#/volumes/" + id);
        WebElement delete = eventually().until(() -> browser.findElement(By.cssSelector("form[name='delete-volume']")), f -> true);
        delete.findElement(By.name("delete")).click();
        eventually().untilAsserted(() -> assertThat(text("[data-form='delete-volume']")).contains("tick the box to confirm"));
        assertThat(cluster.gateway().get("/v0/volumes/" + id).status()).as("not deleted").isEqualTo(200);
        delete.findElement(By.name("sure")).click();
        delete.findElement(By.name("delete")).click();
        eventually().untilAsserted(() -> assertThat(browser.getCurrentUrl()).endsWith("#/volumes"));
        assertThat(cluster.gateway().get("/v0/volumes/" + id).status()).as("deleted").isEqualTo(404);
        eventually().untilAsserted(() -> assertThat(browser.findElements(By.cssSelector("#volumes tr[data-volume='" + id + "']"))).isEmpty());
    }

    private static tools.jackson.databind.JsonNode volume(String id) {
        Reply r = cluster.gateway().get("/v0/volumes/" + id);
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        return r.json();
    }

    private static tools.jackson.databind.JsonNode node(String id) {
        Reply r = cluster.gateway().get("/v0/nodes/" + id);
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        return r.json();
    }

    private static String targetNode(String volumeId) {
        return volume(volumeId).path("state").path("target").path("node").asString();
    }

    /** Signs in with {@code token}, signing out first whoever the browser holds from another test. */
    private static void signInFresh(String token) {
        browser.get(cluster.gateway().baseUrl() + "/ui/");
        signOutIfSignedIn();
        signIn(token);
        eventually().untilAsserted(() -> assertThat(browser.findElement(By.id("sign-out")).isDisplayed()).isTrue());
    }

    /** The browser keeps its token between tests: sign out whoever another test left signed in. */
    private static void signOutIfSignedIn() {
        eventually().until(() -> browser.findElement(By.id("token")).isDisplayed() || browser.findElement(By.id("sign-out")).isDisplayed());
        if (!browser.findElement(By.id("token")).isDisplayed()) {
            browser.findElement(By.id("sign-out")).click();
        }
    }

    private static void signIn(String token) {
        eventually().untilAsserted(() -> assertThat(browser.findElement(By.id("token")).isDisplayed()).isTrue());
        WebElement field = browser.findElement(By.id("token"));
        field.clear();
        field.sendKeys(token);
        browser.findElement(By.cssSelector("#sign-in-form button[type='submit']")).click();
    }

    private static void type(WebElement form, String field, String value) {
        WebElement input = form.findElement(By.name(field));
        input.clear();
        input.sendKeys(value);
    }

    private static String text(String css) {
        return browser.findElement(By.cssSelector(css)).getText().strip();
    }

    /** The state badge inside the element. */
    private static String state(String css) {
        return browser.findElement(By.cssSelector(css)).findElement(By.cssSelector("[data-state]")).getAttribute("data-state");
    }

    /** The number shown next to a state in a section's counts. */
    private static int count(String section, String state) {
        return Integer.parseInt(browser.findElement(By.cssSelector(section + " [data-count='" + state + "']")).getAttribute("data-n"));
    }

    private static ConditionFactory eventually() {
        return Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).ignoreExceptions();
    }

    private static void screenshot(String name) throws Exception {
        Path file = OUT.resolve(name + ".png");
        Files.write(file, ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
        // The page as text, too: what a reader sees, for the README's tour.
        Files.writeString(OUT.resolve(name + ".txt"), browser.findElement(By.tagName("body")).getText());
    }

    /** base64(SHA-256(SubjectPublicKeyInfo)) of the gateway's certificate: what Chromium's SPKI allow-list takes. */
    private static String gatewayKeyPin() throws Exception {
        Path cert = ClusterCertificates.shared().of(ClusterPeer.REST_GATEWAY).certFile();
        try (var in = Files.newInputStream(cert)) {
            var c = java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in);
            return java.util.Base64.getEncoder().encodeToString(
                    java.security.MessageDigest.getInstance("SHA-256").digest(c.getPublicKey().getEncoded()));
        }
    }
}
