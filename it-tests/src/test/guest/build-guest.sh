#!/usr/bin/env bash
# Builds the tiny test guest: a Debian kernel plus a base initramfs (busybox-static, the virtio and
# evdev modules, stream-agent, init). Nothing it makes is committed; it all lands in a cache:
#
#   build-guest.sh CACHE_DIR      -> prints CACHE_DIR/guest-<hash> (vmlinuz, base.cpio, kernel.txt, modules.txt)
#
# The hash covers this script, init, stream-agent.c and the kernel package, so a changed input
# gives a new directory and an unchanged one costs only the apt-cache look-up.
#
# Kernel: the package the metapackage linux-image-amd64 currently depends on (Debian removes old
# ABI packages from the mirror, so no version is pinned), or SPICESTREAM_GUEST_KERNEL_PKG=<name>,
# or a local file SPICESTREAM_GUEST_KERNEL_DEB=<path.deb> for offline use.
# Needs: apt-get/apt-cache (or the .deb), dpkg-deb, cpio, gcc with static libc, busybox-static.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${1:?usage: build-guest.sh CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

log() { echo "build-guest: $*" >&2; }
fail() { echo "build-guest: error: $*" >&2; exit 1; }

# The modules the agent needs; their dependencies are added in load order.
ROOT_MODULES="virtio_pci virtio_console evdev"
# busybox applets init uses
APPLETS="sh mount insmod stty cat cut uname poweroff echo ls sleep dmesg"

for tool in dpkg-deb cpio gcc sha256sum; do
    command -v "$tool" >/dev/null || fail "$tool not found"
done

# One build at a time per cache (parallel test JVMs share it).
exec 9>"$cache/.lock"
if command -v flock >/dev/null; then flock 9; fi

# ---------------------------------------------------------------- which kernel
resolve_kernel() {
    local pkg=${SPICESTREAM_GUEST_KERNEL_PKG:-} ver
    if [ -z "$pkg" ]; then
        # "Depends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)": name and version in one (slow) look-up
        read -r pkg ver < <(apt-cache show --no-all-versions linux-image-amd64 2>/dev/null \
            | sed -n 's/^Depends: \(linux-image-[^ ,]*\) (= \([^)]*\)).*/\1 \2/p' | head -n1) || true
    else
        ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2; exit}') || true
    fi
    [ -n "$pkg" ] && [ -n "$ver" ] && [ "$ver" != "(none)" ] || return 1
    echo "$pkg $ver"
}

deb=${SPICESTREAM_GUEST_KERNEL_DEB:-}
if [ -n "$deb" ]; then
    [ -r "$deb" ] || fail "SPICESTREAM_GUEST_KERNEL_DEB=$deb is not readable"
    kpkg=$(dpkg-deb -f "$deb" Package)
    kver=$(dpkg-deb -f "$deb" Version)
else
    if ! resolved=$(resolve_kernel); then
        cached=$(ls -t "$cache"/kernel-*/.complete 2>/dev/null | head -n1 || true)
        if [ -n "$cached" ]; then
            # No package lists (or no apt): the kernel already in the cache will do.
            resolved=$(cut -d' ' -f1,2 "$(dirname "$cached")/kernel.txt")
            log "apt-cache cannot name the kernel package; using the cached $resolved"
        else
            # A fresh machine may have no package lists yet.
            if [ "$(id -u)" -eq 0 ]; then
                log "no package lists: apt-get update"
                apt-get update -q >&2 || true
            fi
            resolved=$(resolve_kernel) || fail "cannot find the linux-image-amd64 kernel package with apt-cache (run apt-get update, or set SPICESTREAM_GUEST_KERNEL_DEB)"
        fi
    fi
    read -r kpkg kver <<<"$resolved"
fi
kernel_id="${kpkg}_${kver}"

# ---------------------------------------------------------------- kernel + modules (cached per package)
kernel_dir="$cache/kernel-$(echo "$kernel_id $ROOT_MODULES" | sha256sum | cut -c1-16)"
if [ ! -e "$kernel_dir/.complete" ]; then
    work=$(mktemp -d "$cache/.kernel.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    if [ -z "$deb" ]; then
        log "downloading $kpkg=$kver"
        (cd "$work" && apt-get download -q "$kpkg=$kver" >&2) || fail "apt-get download $kpkg=$kver failed"
        deb=$(ls "$work"/*.deb)
    fi
    log "extracting $(basename "$deb")"
    mkdir -p "$work/fs" "$work/out/modules"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/fs"
    vmlinuz=$(ls "$work"/fs/boot/vmlinuz-* | head -n1)
    release=${vmlinuz##*/vmlinuz-}
    moddir=$(ls -d "$work"/fs/lib/modules/"$release" "$work"/fs/usr/lib/modules/"$release" 2>/dev/null | head -n1 || true)
    [ -n "$moddir" ] || fail "no modules directory for $release in the package"
    cp "$vmlinuz" "$work/out/vmlinuz"
    cp "$work"/fs/boot/config-"$release" "$work/out/config" 2>/dev/null || true

    # The .deb has no modules.dep: take each module's depends= from its .modinfo section.
    # index lines: "<name with _ for -> <path>", as module names and file names may differ so
    find "$moddir" -name '*.ko*' | awk '{ n = $0; sub(/.*\//, "", n); sub(/\.ko.*/, "", n); gsub(/-/, "_", n); print n, $0 }' > "$work/index"
    module_file() {
        awk -v n="$1" '$1 == n { print $2; found = 1; exit } END { exit !found }' "$work/index"
    }
    order=()
    add_module() {
        local name=${1//-/_} f ko dep deps m
        for m in "${order[@]:-}"; do [ "$m" = "$name" ] && return 0; done
        f=$(module_file "$name") || fail "module $name not in $kpkg"
        ko="$work/out/modules/$name.ko"
        # busybox insmod cannot read compressed modules
        case "$f" in
            *.ko.xz) xz -dc "$f" > "$ko" ;;
            *.ko.zst) zstd -qdc "$f" > "$ko" ;;
            *.ko.gz) gzip -dc "$f" > "$ko" ;;
            *) cp "$f" "$ko" ;;
        esac
        if command -v objcopy >/dev/null; then
            deps=$(objcopy -O binary -j .modinfo "$ko" /dev/stdout | tr '\0' '\n' | sed -n 's/^depends=//p')
        else
            deps=$(tr '\0' '\n' < "$ko" | sed -n 's/^depends=//p' | head -n1)
        fi
        for dep in ${deps//,/ }; do add_module "$dep"; done
        order+=("$name")
    }
    for m in $ROOT_MODULES; do add_module "$m"; done
    printf '%s\n' "${order[@]}" > "$work/out/modules/order"
    echo "$kpkg $kver $release" > "$work/out/kernel.txt"
    touch "$work/out/.complete"
    rm -rf "$kernel_dir"
    mv "$work/out" "$kernel_dir"
    rm -rf "$work"
    trap - EXIT
    log "kernel $release, modules: ${order[*]}"
fi

# ---------------------------------------------------------------- base initramfs
key=$(cat "${BASH_SOURCE[0]}" "$here/init" "$here/stream-agent.c" "$kernel_dir/kernel.txt" | sha256sum | cut -c1-16)
out="$cache/guest-$key"
if [ -e "$out/.complete" ]; then
    touch "$out" "$kernel_dir"
    echo "$out"
    exit 0
fi

busybox=$(command -v busybox || true)
[ -n "$busybox" ] || fail "busybox not found (install busybox-static)"
if command -v readelf >/dev/null && readelf -l "$busybox" | grep -q 'program interpreter'; then
    fail "$busybox is dynamically linked (install busybox-static)"
fi

work=$(mktemp -d "$cache/.guest.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,etc,streams,tmp,lib/modules} "$work/out"
cp "$busybox" "$root/bin/busybox"
for a in $APPLETS; do ln -s busybox "$root/bin/$a"; done
cp "$kernel_dir"/modules/*.ko "$kernel_dir/modules/order" "$root/lib/modules/"
gcc -static -Os -Wall -Wextra -o "$root/bin/stream-agent" "$here/stream-agent.c" >&2 \
    || fail "compiling stream-agent.c with gcc -static failed (static libc: libc6-dev)"
strip "$root/bin/stream-agent" 2>/dev/null || true
install -m 0755 "$here/init" "$root/init"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) > "$work/out/base.cpio"
cp "$kernel_dir/vmlinuz" "$work/out/vmlinuz"
cp "$kernel_dir/kernel.txt" "$work/out/kernel.txt"
cp "$kernel_dir/modules/order" "$work/out/modules.txt"
touch "$work/out/.complete"
rm -rf "$out"
mv "$work/out" "$out"
rm -rf "$work"
trap - EXIT
# Builds unused for two days are dead weight (~11 MB each); other checkouts sharing the cache keep
# theirs alive by using them.
find "$cache" -mindepth 1 -maxdepth 1 \( -name 'guest-*' -o -name 'kernel-*' \) -mtime +2 \
    ! -path "$out" ! -path "$kernel_dir" -exec rm -rf {} +
log "built $out ($(du -k "$out/base.cpio" | cut -f1) KiB initramfs, kernel $(cut -d' ' -f3 "$out/kernel.txt"))"
echo "$out"
