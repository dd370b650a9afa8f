package io.javastor.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** The port picker the tests of every module share, as surefire's parallel forks use it. */
class FreePortsTest {

    @Test
    void eachForkNumberHasItsOwnSliceAndAnythingElseTheWholeRange() {
        assertThat(FreePorts.slice("fork-1")).isZero();
        assertThat(FreePorts.slice("fork-2")).isEqualTo(1);
        assertThat(FreePorts.slice("fork-4")).isEqualTo(3);
        assertThat(FreePorts.slice("fork-5")).as("forks beyond the slices share them round-robin").isZero();
        assertThat(FreePorts.slice("")).as("no fork number: the whole range").isEqualTo(-1);
        assertThat(FreePorts.slice("fork-${surefire.forkNumber}")).as("an unexpanded placeholder").isEqualTo(-1);
        assertThat(FreePorts.slice("fork-0")).isEqualTo(-1);
    }

    @Test
    void portsAreBindableNeverRepeatedAndInThisForksSlice() throws IOException {
        if (System.getProperty("surefire.real.class.path") != null) {
            assertThat(System.getProperty("javastor.test.fork", "")).as("surefire passes the fork number (root pom)").matches("fork-[1-9][0-9]*");
        }
        int slice = FreePorts.slice(System.getProperty("javastor.test.fork", ""));
        int low = slice < 0 ? 20000 : 20000 + slice * 3192;
        int high = slice < 0 ? 32767 : low + 3191;
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            int port = FreePorts.next();
            assertThat(port).as("fork " + System.getProperty("javastor.test.fork")).isBetween(low, high);
            assertThat(seen.add(port)).as("port " + port + " handed out twice").isTrue();
        }
        int last = seen.iterator().next();
        try (ServerSocket s = new ServerSocket(last, 1, InetAddress.getLoopbackAddress())) {
            assertThat(s.getLocalPort()).isEqualTo(last);
        }
    }
}
