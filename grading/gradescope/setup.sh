#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Gradescope runs this once, as root, on its Ubuntu 22.04 (jammy) base
# image, from /autograder/source (the unpacked autograder.zip), to build
# the image every submission is then graded in. It installs what
# grading/grade needs there — the job `make deps` does on Debian 12:
#
#  - one Ubuntu kernel, image and headers of the same release: the VM
#    boots the image, the labs build against the headers (KERNEL_PACKAGE
#    picks the series; by default jammy's own 5.15, linux-image-generic);
#  - QEMU (TCG: Gradescope offers no KVM), busybox-static for the guest,
#    gcc, make and the C library for the modules and the static test
#    programs, python3 for the kit, zstd, xz and lz4 for kernel images;
#  - the kselftest harness headers, which the zip carries (copied from
#    the instructor's cache: Ubuntu packages them only inside the whole
#    linux-source tarball), into the kit's cache;
#  - the kernel's uncompressed vmlinux, every lab's test program and the
#    kit's own modules, made once here rather than in every submission's
#    run;
#  - with `make gradescope DEBUG_KERNEL=1` (the zip then has
#    debug-kernel-source): the kit's debug kernel (lockdep, KASAN...),
#    built here by tools/build-debug-kernel from the very Debian package
#    the instructor's own is built from, fetched from Debian's mirror
#    and checked against its SHA-256. grading/grade then grades on it.
#    It costs the build (tens of minutes) once, here, and makes every
#    submission's run several times slower (docs/distribution.md).
#
# It ends by saving each lab's booted VM and grading the first lab's
# skeleton in the VM, so an image that cannot build or boot fails here,
# where the instructor sees it, and not in front of students.
set -eu

cd "$(dirname "$0")"
source_dir=$(pwd)
LABKIT_CACHE=${LABKIT_CACHE:-/var/cache/chardev-labkit}
KERNEL_PACKAGE=${KERNEL_PACKAGE:-linux-image-generic}
DEBIAN_FRONTEND=noninteractive
export LABKIT_CACHE DEBIAN_FRONTEND

say() {
	printf 'setup: %s\n' "$*"
}

apt-get update -q
# The kernel metapackage also pulls in linux-firmware and microcode
# (hundreds of MB a VM that boots an initramfs never reads): install the
# versioned image it names, and that release's headers.
image=$(apt-cache depends "$KERNEL_PACKAGE" |
	sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
if [ -z "$image" ]; then
	say "no kernel image found behind $KERNEL_PACKAGE"
	exit 1
fi
kver=${image#linux-image-}
say "kernel $kver"
apt-get install -y -q --no-install-recommends \
	"$image" "linux-headers-$kver" \
	qemu-system-x86 busybox-static gcc make libc6-dev binutils \
	python3 zstd xz-utils lz4

# The harness headers, where grading/labkit/build.py looks for the files
# `make deps` extracts from linux-source.
for shipped in "$source_dir"/kernel-tools/*/; do
	name=$(basename "$shipped")
	rm -rf "${LABKIT_CACHE:?}/$name"
	mkdir -p "$LABKIT_CACHE/$name"
	cp -R "$shipped." "$LABKIT_CACHE/$name/"
	echo "shipped in autograder.zip" >"$LABKIT_CACHE/$name/.complete"
done

# The vmlinux: the kit extracts xz, zstd and gzip images itself (jammy's
# 5.15 and 6.8 kernels are zstd); for any other compression (lz4, which
# older Ubuntu series used), the kernel's own extract-vmlinux, shipped in
# the headers package.
vmlinux=$LABKIT_CACHE/vmlinux/vmlinux-$kver
mkdir -p "$LABKIT_CACHE/vmlinux"
if ! (cd "$source_dir/grading" && python3 -c \
	'import sys; from labkit import kernels; kernels.vmlinux(sys.argv[1])' \
	"$kver") 2>/dev/null; then
	say "extracting $vmlinux with extract-vmlinux"
	"/usr/src/linux-headers-$kver/scripts/extract-vmlinux" \
		"/boot/vmlinuz-$kver" >"$vmlinux.tmp"
	mv "$vmlinux.tmp" "$vmlinux"
fi

# The debug kernel, when the zip asks for it: the build tools, Debian's
# linux-source-6.12 (the version named in debug-kernel-source; apt
# installs its two dependencies), then the build into the cache.
debug_record=$source_dir/debug-kernel-source
if [ -s "$debug_record" ]; then
	say "debug kernel: fetching $(sed -n 's/^version //p' "$debug_record") of Debian's linux-source-6.12"
	apt-get install -y -q --no-install-recommends \
		flex bison bc libelf-dev perl xz-utils
	deb=$(cd "$source_dir/grading" &&
		python3 -m labkit.debug_source fetch "$debug_record" /var/tmp)
	apt-get install -y -q --no-install-recommends "$deb"
	rm -f "$deb"
	say "debug kernel: building it (tens of minutes; its log: $LABKIT_CACHE/debug-kernel/*/build.log)"
	"$source_dir/tools/build-debug-kernel"
fi

# The kernels the submissions are graded on: the image's, and the debug
# kernel when it was built above (grading/grade then prefers it).
kernels_here=$(cd "$source_dir/grading" && python3 -c '
from labkit import kernels
print(kernels.select(None))
if kernels.debug_problem() is None:
    print(kernels.DEBUG)')
if [ -s "$debug_record" ] && ! echo "$kernels_here" | grep -qx debug; then
	say "debug kernel: built, but the kit cannot use it: $(cd "$source_dir/grading" &&
		python3 -c 'from labkit import kernels; print(kernels.debug_problem())')"
	exit 1
fi

# Every lab's test program, the guest's helpers (vm-exit, results-sync)
# and the kit's own modules (grading/kmod/: the name taker the tests load
# beside a lab's module), built once here: every submission's run reuses
# them (about 30 s less for seven labs), and a kit module that does not
# build for this kernel fails here.
say "building the test programs and the kit's own modules"
(cd "$source_dir/grading" && KERNELS=$kernels_here python3 -c '
import os
from labkit import build, labs
for lab in labs.all_labs():
    build.test_program(lab)
build.guest_exit_program()
build.guest_results_sync_program()
for kver in os.environ["KERNELS"].split():
    build.kit_modules(kver)')

# Each lab's booted VM, saved in the cache (grading/labkit/snapshot.py):
# every submission's runs restore it in a fraction of a second instead of
# booting the kernel. Without it they boot, which is slower but right.
say "saving each lab's booted VM"
(cd "$source_dir/grading" && KERNELS=$kernels_here python3 -c '
import os
from labkit import labs, vm
for kver in os.environ["KERNELS"].split():
    for lab in labs.all_labs():
        saved = vm.save_snapshot(lab, kver)
        print(f"setup: {lab.name} on {kver}: " + (f"saved {saved}" if saved
              else "no snapshot (its runs will boot)"))')

# The smoke test: build and grade one skeleton (it scores below 100; what
# matters is that it was graded).
lab=01
if [ -s "$source_dir/autograder-labs" ]; then
	lab=$(head -n 1 "$source_dir/autograder-labs")
fi
for kver in $kernels_here; do
	say "smoke test: grading lab $lab's skeleton on $kver"
	python3 "$source_dir/grading/run-lab" --lab "$lab" --kver "$kver" \
		--src "$source_dir/labs"
done
if echo "$kernels_here" | grep -qx debug; then
	say "ready: kernel debug (grading/grade's default; also $(echo "$kernels_here" | head -n 1))"
else
	say "ready: kernel $kernels_here"
fi
