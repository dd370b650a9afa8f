#!/usr/bin/env bash
# Host side, before the VM starts: the VM's initramfs carries only the NVMe/virtio modules, and the guest chroot
# is the HOST's root (its /lib/modules is for the host kernel), so the guest kernel cannot autoload filesystems.
# This extracts ext4 (and xfs, btrfs when present) with their dependencies from the package of the kernel the VM
# boots into DEST, with DEST/order.txt listing them in load order (dependencies first). The kernel: the one of
# VM_CACHE when that cache holds its own (tools/vm-auth-kernel keeps its package there), else the harness's Debian 6.1.
#   guest-fs-modules.sh DEST
set -euo pipefail
dest=$1
cache=${VM_CACHE:-$HOME/.cache/linux-nvme-vm}
deb=$(ls "$cache"/linux-image-*-unsigned_*.deb 2>/dev/null | sort -V | tail -1 || true)
if [ -n "$deb" ]; then
  pkg=$(basename "$deb" .deb)
else
  pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' | awk '{print $1}' | sort -V | tail -1)
  [ -n "$pkg" ] || { apt-get update -qq >/dev/null 2>&1; pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' | awk '{print $1}' | sort -V | tail -1); }
  [ -n "$pkg" ] || { echo "no Debian linux-image-6.1 package found" >&2; exit 1; }
fi
store="$cache/fs-modules-$pkg"
if [ ! -f "$store/order.txt" ]; then
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  if [ -z "$deb" ]; then
    (cd "$work" && apt-get download "$pkg" >/dev/null 2>&1) || { echo "apt-get download $pkg failed" >&2; exit 1; }
    deb=$(ls "$work"/*.deb)
  fi
  dpkg -x "$deb" "$work/k"
  # Debian 13 ships its modules under /usr/lib/modules, xz-compressed.
  [ -d "$work/k/lib/modules" ] || { mkdir -p "$work/k/lib"; ln -s ../usr/lib/modules "$work/k/lib/modules"; }
  kv=$(ls "$work/k/lib/modules"); depmod -b "$work/k" "$kv"; dep="$work/k/lib/modules/$kv/modules.dep"
  rm -rf "$store.tmp"; mkdir -p "$store.tmp"; : > "$store.tmp/order.txt"
  add() { # $1 = module path relative to lib/modules/KV; dependencies first
    local line deps d
    line=$(grep -E "^$1:" "$dep" || true)
    deps=${line#*:}
    for d in $(echo $deps | tr ' ' '\n' | tac); do add "$d"; done
    local name; name=$(basename "$1"); name=${name%.xz}
    grep -qx "$name" "$store.tmp/order.txt" && return 0
    case "$1" in
      *.xz) xz -dc "$work/k/lib/modules/$kv/$1" > "$store.tmp/$name" ;;
      *) cp "$work/k/lib/modules/$kv/$1" "$store.tmp/$name" ;;
    esac
    echo "$name" >> "$store.tmp/order.txt"
  }
  for m in crc32c_generic crc32c-intel ext4 xfs btrfs; do
    p=$(grep -oE "^[^:]*/$m\.ko(\.xz)?" "$dep" || true)
    [ -n "$p" ] && add "$p"
  done
  grep -qx ext4.ko "$store.tmp/order.txt" || { echo "ext4.ko not found in $pkg" >&2; exit 1; }
  rm -rf "$store"; mv "$store.tmp" "$store"
fi
mkdir -p "$dest"; cp "$store"/* "$dest/"
echo "$pkg: $(tr '\n' ' ' < "$dest/order.txt")"
