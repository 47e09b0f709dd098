# SPDX-License-Identifier: GPL-2.0
# The shared part of the classroom demos, sourced by labs/NN-name/demo.sh.
# POSIX sh: it runs under busybox inside the VM that `make demo LAB=NN`
# boots (grading/demo), whose output goes to the instructor's terminal as
# it comes.
#
# A demo is a series of steps. Each step says what is about to happen and
# what to look for, then does it, showing the commands it runs, the state
# of the processes it sends to sleep (from /proc) and the lines the
# driver logged meanwhile (its pr_debug lines, enabled with dyndbg=+p)
# and, from Lab 04 on, the FIFO's live view (debugfs, demo_view).
# With --step as the lab script's first argument (make demo STEP=1), a
# step waits for Enter first: the host forwards its stdin to the guest's
# ttyS2.
#
# The lab's script sets DEMO_MODULE (the module to load) and calls the
# functions below; DEMO_MODULE_DIR (default: the lab's directory) is where
# the .ko files are.

DEMO_STEP=0
if [ "${1-}" = --step ]; then
	DEMO_STEP=1
	# ttyS2 goes to and comes from the host; open while the demo runs,
	# so that no byte the host sends is dropped.
	exec 5<>/dev/ttyS2
fi
_demo_steps=0

# demo_title TEXT: the demo's banner.
demo_title() {
	echo
	echo "=================================================================="
	echo "  $*"
	echo "=================================================================="
}

# demo_step TITLE LOOK-FOR...: start a step: what happens, what to watch.
demo_step() {
	_demo_steps=$((_demo_steps + 1))
	echo
	echo "--- Step $_demo_steps: $1"
	shift
	for _d_look in "$@"; do
		echo "    look for: $_d_look"
	done
	if [ "$DEMO_STEP" = 1 ]; then
		echo "    (press Enter)"
		# Ask the host for the Enter on the port held open (fd 5).
		echo labkit-enter >&5
		read -r _d_line <&5 || true
	fi
}

# demo_say TEXT...: a line of narration.
demo_say() {
	echo "    $*"
}

# demo_run COMMAND: show COMMAND, run it, show its output indented and
# its exit status when it is not 0.
demo_run() {
	echo "  \$ $1"
	_d_status=0
	sh -c "$1" >/tmp/demo-out 2>&1 || _d_status=$?
	sed 's/^/    /' /tmp/demo-out
	[ "$_d_status" -eq 0 ] || echo "    (exit status $_d_status)"
	return 0
}

# demo_sleeper COMMAND: show COMMAND, start it in the background, wait
# until it sleeps, then show its state and the kernel log. Its pid is left
# in demo_pid (for wait or kill).
demo_sleeper() {
	echo "  \$ $1 &"
	eval "exec $1" &
	demo_pid=$!
	demo_wait_asleep "$demo_pid"
	demo_task "$demo_pid"
	demo_log
}

# demo_log: the kernel log lines since the last call, marked as such.
demo_log() {
	dmesg -c 2>/dev/null | sed 's/^/    kernel| /'
}

# demo_view [NAME:TEXT...]: the live view of the module's FIFOs now
# (fifo_view on /sys/kernel/debug/$DEMO_MODULE/state, one line per FIFO);
# fail, ending the demo, unless the line of each NAME shows its TEXT: the
# demo checks what it tells the audience.
demo_view() {
	_d_view=$(fifo_view -n 1 "/sys/kernel/debug/$DEMO_MODULE/state" 2>&1) ||
		true
	printf '%s\n' "$_d_view" | sed 's/^/    view| /'
	for _d_want in "$@"; do
		if ! printf '%s\n' "$_d_view" | grep "^${_d_want%%:*} " |
			grep -q -e "${_d_want#*:}"; then
			echo "    the view of ${_d_want%%:*} should show '${_d_want#*:}'"
			return 1
		fi
	done
}

# demo_load [PARAM=VALUE...]: load DEMO_MODULE with its debug lines on.
demo_load() {
	: "${DEMO_MODULE_DIR:=$_demo_here}"
	# For the live view (demo_view).
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
	dmesg -c >/dev/null 2>&1 || true
	demo_run "insmod $DEMO_MODULE_DIR/$DEMO_MODULE.ko dyndbg=+p $*"
	demo_log
}

# demo_unload: remove DEMO_MODULE.
demo_unload() {
	demo_run "rmmod $DEMO_MODULE"
	demo_log
}

# demo_wait_asleep PID: wait (at most 5 s) until process PID sleeps;
# say so if it does not (it exited, or keeps running).
demo_wait_asleep() {
	_d_tries=0
	while [ "$_d_tries" -lt 250 ]; do
		case $(sed -n 's/^State:[[:space:]]*//p' "/proc/$1/status" \
			2>/dev/null) in
		S* | D*) return 0 ;;
		"")
			demo_say "(pid $1 has exited)"
			return 0
			;;
		esac
		usleep 20000
		_d_tries=$((_d_tries + 1))
	done
	demo_say "(pid $1 is still running after 5 s)"
}

# demo_task PID: what process PID is doing, as the kernel sees it: its
# state, the function it sleeps in and the top of its kernel stack.
demo_task() {
	_d_comm=$(cat "/proc/$1/comm" 2>/dev/null) || {
		echo "    pid $1 has exited"
		return 0
	}
	_d_state=$(sed -n 's/^State:[[:space:]]*//p' "/proc/$1/status")
	echo "    pid $1 ($_d_comm): state $_d_state, sleeping in" \
		"$(cat "/proc/$1/wchan" 2>/dev/null)()"
	if [ -r "/proc/$1/stack" ]; then
		head -n 4 "/proc/$1/stack" | sed 's/^/      stack| /'
	fi
}

# demo_end: the closing line.
demo_end() {
	echo
	echo "--- End of the demo ($_demo_steps steps)."
}

case $0 in
*/*) _demo_here=$(cd "${0%/*}" && pwd) ;;
*) _demo_here=$(pwd) ;;
esac
