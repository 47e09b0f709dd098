# SPDX-License-Identifier: GPL-2.0
# The shared part of the labs' bench scripts (labs/NN-name/tests/bench.sh),
# sourced by them. POSIX sh: it runs under busybox in the VM.
#
# bench_module_vs_fifo MODULE PARAM SIZE TARGET [fifo_bench options...]
#   loads MODULE.ko from $BENCH_MODULE_DIR with PARAM=SIZE, prints
#   "# MODULE PARAM=N" (the value the module reports), the clock source
#   and "# cpus N" (the CPUs the guest's kernel brought up),
#   then runs fifo_bench ($BENCH_PROG, default: on the PATH) with the
#   options, TARGET (LABEL=PATH or LABEL=WRITEPATH:READPATH, see
#   userspace/bench/fifo_bench.c) and a named pipe set to SIZE bytes
#   (label "fifo"), and unloads the module. Output: fifo_bench's TAP;
#   "Bail out! ..." when the module does not load or unload. Returns
#   fifo_bench's status, or 1.

bench_module_vs_fifo() {
	_b_mod=$1
	_b_param=$2
	_b_size=$3
	_b_target=$4
	shift 4
	_b_fifo=${TMPDIR:-/tmp}/fifo_bench.$$
	: "${BENCH_PROG:=fifo_bench}"

	if [ -d "/sys/module/$_b_mod" ]; then
		echo "Bail out! $_b_mod is already loaded: rmmod it first"
		return 1
	fi
	if ! _b_out=$(insmod "$BENCH_MODULE_DIR/$_b_mod.ko" \
		"$_b_param=$_b_size" 2>&1); then
		echo "Bail out! insmod $_b_mod.ko $_b_param=$_b_size failed: $_b_out"
		return 1
	fi
	read -r _b_value <"/sys/module/$_b_mod/parameters/$_b_param"
	echo "# $_b_mod $_b_param=$_b_value"
	read -r _b_clock \
		</sys/devices/system/clocksource/clocksource0/current_clocksource
	echo "# clocksource $_b_clock"
	# The CPUs the kernel brought up (the VM may have been given more).
	echo "# cpus $(grep -c '^processor' /proc/cpuinfo)"

	_b_status=0
	"$BENCH_PROG" -p "$_b_size" -m "$_b_fifo" "$@" \
		"$_b_target" "fifo=$_b_fifo" || _b_status=$?

	if ! _b_out=$(rmmod "$_b_mod" 2>&1); then
		echo "Bail out! rmmod $_b_mod failed: $_b_out"
		return 1
	fi
	return "$_b_status"
}
