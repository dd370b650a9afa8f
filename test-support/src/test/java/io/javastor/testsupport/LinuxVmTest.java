package io.javastor.testsupport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The launcher's handling of a guest kernel that panics while booting, with a stand-in for run-vm.sh that keeps its
 * contract (the script and its siblings into VM_SHARE, run there as ./guest.sh with the arguments, "VM-EXIT rc" on
 * the output, 94 when the guest did not finish) and does, boot by boot, what a plan says: QEMU's boot takes too long
 * and its panic cannot be called up at will. The VM tests boot the real one.
 */
class LinuxVmTest {
    private static final String STAND_IN = """
            #!/usr/bin/env bash
            set -u
            here=$(dirname "$0")
            script=$1; shift
            boot=$(( $(cat "$here/boots" 2>/dev/null || echo 0) + 1 )); echo "$boot" > "$here/boots"
            cp "$script" "$VM_SHARE/guest.sh"
            for f in "$(dirname "$script")"/*.sh; do [ "$f" -ef "$script" ] || cp "$f" "$VM_SHARE/"; done
            case $(sed -n "${boot}p" "$here/plan") in
              panic) echo "[    2.033] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI"; echo "[    2.036] Kernel panic - not syncing: Fatal exception in interrupt"; exit 94;;
              run) (cd "$VM_SHARE" && bash ./guest.sh "$@"); rc=$?; echo "VM-EXIT $rc"; exit $rc;;
              run-then-panic) (cd "$VM_SHARE" && bash ./guest.sh "$@"); echo "[   60.100] Kernel panic - not syncing: in nvme_tcp"; exit 94;;
            esac
            """;

    @Test
    void aPanicBeforeTheGuestScriptBeginsIsBootedAgainAndTheScriptRunsOnce(@TempDir Path tmp) throws Exception {
        Path runVm = standIn(tmp, "panic", "run");
        try (LinuxVm vm = LinuxVm.script(tmp.resolve("work"), guestScript(tmp), "one", "two").harness(runVm).start()) {
            assertThat(vm.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(vm.exitValue()).as("the guest script's own exit status").isEqualTo(3);
            assertThat(vm.output()).contains("LinuxVm: boot 1 of at most 3 ended in a guest kernel panic before the guest script began")
                    .contains("guest ran with one two and helper here");
            assertThat(Files.readString(tmp.resolve("harness/boots")).trim()).isEqualTo("2");
            assertThat(tmp.resolve("work/vm-boot1.log")).content().contains("Kernel panic");
            assertThat(vm.share().resolve("runs")).content().isEqualTo("ran\n");
        }
    }

    @Test
    void aPanicAfterTheGuestScriptBeganIsReportedNotBootedAgain(@TempDir Path tmp) throws Exception {
        Path runVm = standIn(tmp, "run-then-panic", "run");
        try (LinuxVm vm = LinuxVm.script(tmp.resolve("work"), guestScript(tmp)).harness(runVm).start()) {
            assertThat(vm.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(vm.exitValue()).as("run-vm.sh's status for a guest that did not finish").isEqualTo(94);
            assertThat(vm.output()).contains("in nvme_tcp").doesNotContain("booting again");
            assertThat(Files.readString(tmp.resolve("harness/boots")).trim()).isEqualTo("1");
        }
    }

    @Test
    void aKernelThatPanicsOnEveryBootIsTriedThreeTimesThenReported(@TempDir Path tmp) throws Exception {
        Path runVm = standIn(tmp, "panic", "panic", "panic", "run");
        try (LinuxVm vm = LinuxVm.script(tmp.resolve("work"), guestScript(tmp)).harness(runVm).start()) {
            assertThat(vm.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(vm.exitValue()).isEqualTo(94);
            assertThat(vm.output()).contains("boot 1 of at most 3", "boot 2 of at most 3").doesNotContain("boot 3 of").contains("Kernel panic");
            assertThat(Files.readString(tmp.resolve("harness/boots")).trim()).isEqualTo("3");
        }
    }

    @Test
    void theHarnessNamesAreRefusedForAGuestScript(@TempDir Path tmp) throws Exception {
        Path script = Files.writeString(tmp.resolve("guest.sh"), "exit 0\n");
        assertThatThrownBy(() -> LinuxVm.script(tmp.resolve("work"), script))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("guest.sh").hasMessageContaining("harness");
    }

    private static Path standIn(Path tmp, String... plan) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("harness"));
        Files.writeString(dir.resolve("plan"), String.join("\n", plan) + "\n");
        return Files.writeString(dir.resolve("run-vm.sh"), STAND_IN);
    }

    /** A guest script with a sibling it calls, as the real ones do; it counts its runs in the shared folder. */
    private static Path guestScript(Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("scripts"));
        Files.writeString(dir.resolve("helper.sh"), "echo \"helper here\"\n");
        return Files.writeString(dir.resolve("my-guest.sh"), """
                echo ran >> ./runs
                echo "guest ran with $* and $(bash "$(dirname "$0")/helper.sh")"
                exit 3
                """);
    }
}
