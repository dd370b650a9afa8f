package io.javastor.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Kernel modules of the VM's kernel that the harness's initramfs does not carry (it has virtio, 9p, overlay, nvme-tcp
 * and nvmet-tcp only; the guest's chroot is the host's root, whose /lib/modules is not the guest kernel's). They come
 * from the package of the kernel the guest boots (the one the VM cache holds, or the harness's Debian 6.1 by
 * {@code apt-get download}, once), unpacked with
 * their dependencies into {@code $VM_CACHE/modules-<version>}, where the guest loads them with
 * {@code modprobe -d DIR NAME}.
 */
final class GuestKernelModules {
    private GuestKernelModules() {
    }

    private static final String PREPARE = """
            set -euo pipefail
            cache=${VM_CACHE:-$HOME/.cache/linux-nvme-vm}
            # A cache that carries its kernel's package (tools/vm-auth-kernel) takes the modules from it.
            deb=$(ls "$cache"/linux-image-*-unsigned_*.deb 2>/dev/null | sort -V | tail -1 || true)
            if [ -f "$cache/kernel-version" ]; then kv=$(cat "$cache/kernel-version")
            else
              # The harness's choice (run-vm.sh): the newest Debian 6.1 amd64 image package.
              pkg=$(apt-cache search --names-only '^linux-image-6\\.1\\.0-[0-9]+-amd64-unsigned$' | awk '{print $1}' | sort -V | tail -1)
              [ -n "$pkg" ] || { apt-get update -qq >/dev/null 2>&1; pkg=$(apt-cache search --names-only '^linux-image-6\\.1\\.0-[0-9]+-amd64-unsigned$' | awk '{print $1}' | sort -V | tail -1); }
              kv=${pkg#linux-image-}; kv=${kv%-unsigned}
            fi
            [ -n "$kv" ] || { echo "no guest kernel version" >&2; exit 1; }
            dir="$cache/modules-$kv"
            for m in "$@"; do
              if [ -f "$dir/lib/modules/$kv/modules.dep" ] && grep -qE "/$m\\.ko(\\.[a-z]+)?:" "$dir/lib/modules/$kv/modules.dep"; then continue; fi
              work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
              if [ -n "$deb" ]; then cp "$deb" "$work/"
              else
                (cd "$work" && apt-get download "linux-image-$kv-unsigned" >/dev/null 2>&1) || \\
                  { apt-get update -qq >/dev/null 2>&1; (cd "$work" && apt-get download "linux-image-$kv-unsigned" >/dev/null); }
              fi
              dpkg -x "$work"/*.deb "$work/k"
              # Debian 13 ships its modules under /usr/lib/modules (xz-compressed; the guest's kmod reads xz).
              [ -d "$work/k/lib/modules" ] || { mkdir -p "$work/k/lib"; ln -s ../usr/lib/modules "$work/k/lib/modules"; }
              depmod -b "$work/k" "$kv"
              mkdir -p "$dir/lib/modules/$kv"
              for n in "$@"; do
                line=$(grep -E "/$n\\.ko(\\.[a-z]+)?:" "$work/k/lib/modules/$kv/modules.dep") || { echo "module $n not in linux-image-$kv" >&2; exit 1; }
                for f in ${line%%:*} ${line#*:}; do
                  mkdir -p "$dir/lib/modules/$kv/$(dirname "$f")"; cp "$work/k/lib/modules/$kv/$f" "$dir/lib/modules/$kv/$f"
                done
              done
              cp "$work/k/lib/modules/$kv"/modules.{order,builtin,builtin.modinfo} "$dir/lib/modules/$kv/" 2>/dev/null || true
              depmod -b "$dir" "$kv"
              break
            done
            echo "$dir"
            """;

    /** The module root for {@code modprobe -d} in the guest, holding the named modules and their dependencies. */
    static String prepare(Path workDir, String... modules) throws IOException, InterruptedException {
        Path script = workDir.resolve("guest-modules.sh");
        Files.writeString(script, PREPARE);
        Path out = workDir.resolve("guest-modules.out");
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("bash", script.toString()));
        cmd.addAll(java.util.List.of(modules));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("VM_CACHE", GuestVm.kernelCache().toString()); // the modules of the kernel the guest boots
        Process p = pb.start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("preparing the guest's kernel modules " + String.join(", ", modules) + ": not within 10 min");
        }
        String text = Files.readString(out, StandardCharsets.UTF_8).strip();
        if (p.exitValue() != 0) {
            throw new AssertionError("preparing the guest's kernel modules " + String.join(", ", modules) + " failed (exit "
                    + p.exitValue() + "):\n" + text);
        }
        return text.lines().reduce((x, y) -> y).orElseThrow();
    }
}
