# SPDX-License-Identifier: GPL-2.0
# The shared part of every lab's autograder, sourced by
# labs/NN-name/tests/grade.sh. POSIX sh: it runs under busybox inside the
# grading VM, and natively as root on a real machine.
#
# The lab's script sets
#   LAB           the lab's directory name, e.g. 01-flat-buffer
#   LAB_MODULES   the modules to load, in order, without .ko
#   LAB_TESTPROG  the test program's file name (a kselftest-harness program)
# and calls lab_grade. These may be set from outside:
#   LAB_POINTS_FILE   the lab's points file (default: tests/points beside
#                     grade.sh): only its first column is read here, the
#                     names of the tests that must report (the test
#                     program's, plus module_loads, module_unloads and
#                     kernel_log_clean, which are this file's own checks);
#                     the points are the host's business
#   LAB_MODULE_DIR    where the .ko files are (default: the lab's directory;
#                     exported to the test program)
#   LAB_KIT_MODULE_DIR  where the kit's own modules are (grading/kmod/: the
#                     name taker, userspace/name_taker.h; default:
#                     LAB_MODULE_DIR, where the VM receives them with the
#                     lab's; exported to the test program)
#   LAB_TEST_DIR      where the test program is (default: the tests directory)
#   LAB_TEST_TIMEOUT  seconds the whole test program may take (default 120;
#                     each test also has its own, shorter timeout)
#   LAB_HIDDEN_DIR    the instructor's hidden tests (default: the kit's
#                     grading/hidden/$LAB): when it holds a file "points"
#                     (lines "NAME POINTS VISIBILITY") and an executable
#                     hidden_* test program, that program runs after the
#                     lab's own, and its tests join the plan
# The test programs get LABKIT_STOP_FILE: a test that finds a bug which
# leaves the kernel unsafe to go on with writes its name and the reason
# there (userspace/tests_stop.h), and no later test runs.
#
# Output (stdout) is KTAP, facts only: a plan ("1..N", then "# plan NAME"
# for every test), then one line per test as soon as its result is known,
#   ok 3 read_stops_at_end_of_data
#   not ok 4 write_when_full_fails_with_enospc
# each failure preceded by its reasons as "#" lines, then the kernel log of
# the run. No points and no score: the host alone scores the results with
# the kit's points files (grading/labkit/results.py, which relies on this
# format).
#
# Under emulation every fork and exec costs milliseconds, so the
# bookkeeping uses shell built-ins only: the plan and the results live in
# shell variables named after the tests (_lab_plan_NAME, _lab_got_NAME),
# and in a file (_lab_done) for the part that runs in a pipeline's
# subshell.

: "${LAB_TEST_TIMEOUT:=120}"

# Taint flags that mean the kernel went wrong: B (bad page, also set by
# slub_debug reports), D (oops), W (warning), L (soft lockup).
_LAB_BAD_TAINT=$(((1 << 5) | (1 << 7) | (1 << 9) | (1 << 14)))

# Kernel log lines that mean the module did something wrong. (The
# hung-task detector is off: whether it had reported a task yet would
# depend on timing. Tasks stuck in state D are found by _lab_find_hung,
# tasks that a SIGKILL cannot end by _lab_find_unkillable.)
_LAB_BAD_LOG='WARNING:|BUG[: ]|Oops|ODEBUG:|DEBUG_LOCKS_WARN_ON|do not call blocking ops|INFO: trying to register non-static key|general protection fault|sleeping function called from invalid context|Call Trace:|list_(add|del) corruption|refcount_t:|UBSAN:|debugfs: .* already present'

# Seconds a task may stay in state D after its test ended (or was killed)
# before it counts as hung; it is checked every tenth of a second, so a
# task that is only passing through D costs nothing.
: "${LAB_HUNG_GRACE:=3}"

# Seconds a task killed with SIGKILL may go on running before it counts
# as stuck in the kernel for good (a loop in the driver that neither
# sleeps nor returns). Longer than the soft-lockup detector's 20 s
# (2 x watchdog_thresh), so that a spin with preemption off is always
# the detector's crash, never this: the same code, the same verdict.
: "${LAB_UNKILLABLE_GRACE:=30}"

# Tests that may end by their timeout before the tests stop. A correct
# driver makes none time out; a driver whose calls hang makes every later
# test wait out its own timeout, and the VM's time limit would then end
# the run at a test that depends on the machine's speed. Counting the
# timeouts instead ends it at the same test on every machine, and sooner.
: "${LAB_TIMEOUTS_MAX:=4}"

# Print every argument as diagnostic lines, each line of a multi-line
# argument with its own "# " (the host reads only those).
_lab_diag() {
	for _d in "$@"; do
		while :; do
			case $_d in
			*"
"*)
				printf '# %s\n' "${_d%%"
"*}"
				_d=${_d#*"
"}
				;;
			*)
				printf '# %s\n' "$_d"
				break
				;;
			esac
		done
	done
}

# A kit error: the lab's points file does not match its test program.
_lab_error() {
	_lab_diag "error: $*"
}

# _lab_result NAME ok|fail [REASON...]: report one test and record it.
_lab_result() {
	_r_name=$1
	_r_status=$2
	shift 2
	case $_r_name in
	*[!a-z0-9_]* | "")
		_lab_error "'$_r_name' is not a test name"
		return 0
		;;
	esac
	eval "_r_planned=\${_lab_plan_$_r_name-}"
	eval "_r_seen=\${_lab_got_$_r_name-}"
	if [ -z "$_r_planned" ]; then
		_lab_error "'$_r_name' is not in the points file of $LAB"
		return 0
	fi
	if [ -n "$_r_seen" ]; then
		_lab_error "'$_r_name' was reported twice"
		return 0
	fi
	_lab_count=$((_lab_count + 1))
	eval "_lab_got_$_r_name=1"
	echo "$_r_name" >>"$_lab_done"
	_lab_diag "$@"
	if [ "$_r_status" = ok ]; then
		printf 'ok %d %s\n' "$_lab_count" "$_r_name"
	else
		printf 'not ok %d %s\n' "$_lab_count" "$_r_name"
	fi
}

# Re-read the results a subshell recorded in _lab_done.
_lab_sync() {
	_lab_count=0
	while read -r _s_name; do
		_lab_count=$((_lab_count + 1))
		eval "_lab_got_$_s_name=1"
	done <"$_lab_done"
}

# Turn the harness's TAP into result lines as it arrives; pass its
# diagnostics through.
_lab_parse_tap() {
	while IFS= read -r _p_line; do
		case $_p_line in
		"ok "* | "not ok "*)
			# shellcheck disable=SC2086 # split the line into words
			set -- $_p_line
			_p_status=ok
			if [ "$1" = not ]; then
				_p_status=fail
				shift
			fi
			_p_name=${3#*.}
			case $_p_line in
			*"# SKIP"*)
				_lab_result "$_p_name" fail "the test was skipped"
				;;
			*)
				_lab_result "$_p_name" "$_p_status"
				;;
			esac
			# A test found a bug that leaves the kernel unsafe to
			# go on with (userspace/tests_stop.h), and its program
			# went on all the same.
			if [ -s "$LABKIT_STOP_FILE" ]; then
				_lab_stop_requested "$_p_name"
				return 0
			fi
			# A failed test may have left a task that its SIGKILL
			# did not end (a correct driver's tasks are gone at
			# once, and a passed test costs no look).
			if [ "$_p_status" = fail ] && ! _lab_find_unkillable; then
				_lab_stop_tests "$_p_name" \
					"a task it left went on running in the kernel after SIGKILL (see kernel_log_clean)" \
					reported
				return 0
			fi
			;;
		"# labkit-results-sync "*)
			# Every line before this one is handled and written:
			# the test program may start its next test once they
			# have left the machine (userspace/results_sync.h).
			results-sync "$LABKIT_RESULTS_SYNC" \
				"${_p_line#"# labkit-results-sync "}" || true
			;;
		"#"*": Test terminated by timeout")
			printf '%s\n' "$_p_line"
			_p_timeouts=$((${_p_timeouts:-0} + 1))
			if ! _lab_find_hung; then
				_lab_stop_tests "${_p_line%%: Test terminated*}" \
					"a task was then stuck in state D (see kernel_log_clean)"
				return 0
			fi
			if ! _lab_find_unkillable; then
				_lab_stop_tests "${_p_line%%: Test terminated*}" \
					"a task it left went on running in the kernel after SIGKILL (see kernel_log_clean)"
				return 0
			fi
			if [ "$_p_timeouts" -ge "$LAB_TIMEOUTS_MAX" ]; then
				_lab_stop_tests "${_p_line%%: Test terminated*}" \
					"$_p_timeouts tests have now overstayed their timeouts, the most the tests wait out: calls that hang would make every later test wait out its own"
				return 0
			fi
			;;
		"#"*)
			printf '%s\n' "$_p_line"
			;;
		"") ;;
		*)
			printf '# %s\n' "$_p_line"
			;;
		esac
	done
	# A test found a bug that leaves the kernel unsafe to go on with
	# (userspace/tests_stop.h): it ended the test program before the
	# harness could report it, or start another test.
	[ ! -s "$LABKIT_STOP_FILE" ] || _lab_stop_requested
}

# _lab_stop_requested [REPORTED]: a test asked for the tests to stop
# (userspace/tests_stop.h: its name and the reason are in
# LABKIT_STOP_FILE); it fails, unless its result is out already
# (REPORTED, the name of the result just read, is its name), and the
# tests stop after it. The result just read may be an earlier test's,
# read only after the stopping test wrote the file (this loop reads the
# harness's output at its own pace): the stop is still the named test's.
_lab_stop_requested() {
	_q_test=
	_q_why=
	{ read -r _q_test && read -r _q_why; } <"$LABKIT_STOP_FILE" || true
	if [ "${1-}" != "$_q_test" ]; then
		_lab_result "$_q_test" fail \
			"it found a bug that makes every later result depend on the machine, and stopped the tests"
	fi
	_lab_stop_tests "$_q_test" "$_q_why" reported
}

# _lab_stop_tests TEST WHY [reported]: TEST overstayed its timeout (or
# its result is out: "reported") and WHY (a task is then stuck in state
# D, or runs on in the kernel after SIGKILL, or the test found memory the
# driver corrupts): stop the test program and stop reading its output.
# Every later test would wait out its own timeout on a stuck device, or
# run with a CPU fewer, or on a corrupt kernel: results that depend on
# the machine.
_lab_stop_tests() {
	_s_test=${1#"# "}
	_s_test=${_s_test#*.}
	printf '%s\n%s\n' "$_s_test" "$2" >"$_lab_work/tests-stop"
	[ "${3-}" = reported ] ||
		_lab_result "$_s_test" fail \
			"it overstayed its timeout, and $2"
	_s_pid=
	read -r _s_pid <"$_lab_work/testprog-pid" || true
	# The tests' own processes go after the program (_lab_kill_leftovers).
	[ -z "$_s_pid" ] || kill -KILL "$_s_pid" 2>/dev/null || true
	return 0
}

# _lab_kill_leftovers: SIGKILL what the test program left behind (every
# process outside the autograder's own process group but init and kernel
# threads: the harness runs each test in a group of its own), and let
# them go. Whether rmmod then succeeds, and what the next tests find,
# depend on the driver, not on how soon a test's helpers happened to
# exit. Tasks stuck in the driver stay (_lab_find_hung and
# _lab_find_unkillable find them).
_lab_kill_leftovers() {
	{ read -r _l_line <"/proc/$$/stat"; } 2>/dev/null || return 0
	# shellcheck disable=SC2086 # split the fields into words
	set -- ${_l_line##*) }
	_l_own=${3-}
	_lab_each_task _lab_kill_outsider
	_lab_find_unkillable >/dev/null || true
}

# _lab_kill_outsider PID STATE PGRP COMM (_lab_each_task): SIGKILL the
# task unless it is in the autograder's process group, _l_own.
_lab_kill_outsider() {
	[ "$3" = "$_l_own" ] || kill -KILL "$1" 2>/dev/null || true
}

# _lab_each_task FUNC: call FUNC PID STATE PGRP COMM for every task but
# init and kernel threads (PF_KTHREAD), as /proc/PID/stat gives them. A
# task that exits between the listing and the read is left out.
_lab_each_task() {
	_e_func=$1
	set +f
	for _e_stat in /proc/[0-9]*/stat; do
		# "PID (COMM) STATE ...": COMM may hold spaces and parentheses.
		{ read -r _e_line <"$_e_stat"; } 2>/dev/null || continue
		_e_pid=${_e_line%% *}
		[ "$_e_pid" != 1 ] || continue
		_e_comm=${_e_line#*(}
		# Fields 3..9: state ppid pgrp session tty_nr tpgid flags.
		# shellcheck disable=SC2086 # split the fields into words
		set -- ${_e_line##*) }
		[ $((${7:-0} & 0x00200000)) -eq 0 ] || continue
		"$_e_func" "$_e_pid" "${1-}" "${3-}" "${_e_comm%) *}"
	done
	set -f
}

_lab_load() {
	_lab_loaded=
	_lab_module_loaded=no
	for _l_mod in $LAB_MODULES; do
		if [ -d "/sys/module/$_l_mod" ]; then
			_lab_result module_loads fail \
				"$_l_mod is already loaded: rmmod it first"
			return 1
		fi
		if ! _l_out=$(insmod "$LAB_MODULE_DIR/$_l_mod.ko" 2>&1); then
			_lab_result module_loads fail \
				"insmod $_l_mod.ko failed: $_l_out" \
				"see the kernel log below for the module's own messages"
			return 1
		fi
		_lab_loaded="$_l_mod $_lab_loaded"
	done
	_lab_module_loaded=yes
	_lab_result module_loads ok
}

# Print "PID COMM" for every task in state D (uninterruptible sleep)
# other than kernel threads, one per line.
_lab_d_tasks() {
	_lab_each_task _lab_print_if_d
}

# _lab_print_if_d PID STATE PGRP COMM (_lab_each_task): "PID COMM" for a
# task in state D.
_lab_print_if_d() {
	[ "$2" != D ] || printf '%s %s\n' "$1" "$4"
}

# _lab_find_hung: the tasks still in state D after LAB_HUNG_GRACE
# seconds, "PID COMM" per line in $_lab_work/hung (empty if none). A
# task that leaves D within the grace is not hung. Whether a task is
# stuck for good does not depend on timing, so neither does the result.
_lab_find_hung() {
	_lab_listed_for _lab_d_tasks "$_lab_work/hung" "$LAB_HUNG_GRACE"
}

# _lab_listed_for LISTER FILE SECONDS: run LISTER into FILE every tenth
# of a second until it lists nothing (0), or until it has listed tasks
# for SECONDS at least, counted on the clock (1: FILE holds them).
_lab_listed_for() {
	"$1" >"$2"
	[ -s "$2" ] || return 0
	# _lab_uptime is in whole seconds: one more makes SECONDS a minimum.
	_w_end=$(($(_lab_uptime) + $3 + 1))
	while [ "$(_lab_uptime)" -lt "$_w_end" ]; do
		sleep 0.1
		"$1" >"$2"
		[ -s "$2" ] || return 0
	done
	return 1
}

# Print "PID COMM" for every task other than kernel threads that has a
# SIGKILL pending and has neither exited nor is asleep in state D: a task
# killed that still runs in the kernel (a SIGKILL ends any other sleep at
# once, and is acted on at the return to user space).
_lab_killed_tasks() {
	# A module's init or exit ignores SIGKILL for as long as it runs
	# (a slow init printing a flood of messages, the task that loads it
	# killed at a test's timeout): not a task stuck in the driver's calls.
	for _k_mod in $LAB_MODULES; do
		_k_init=
		{ read -r _k_init <"/sys/module/$_k_mod/initstate"; } 2>/dev/null || true
		case $_k_init in
		coming | going) return 0 ;;
		esac
	done
	_lab_each_task _lab_print_if_killed
}

# _lab_print_if_killed PID STATE PGRP COMM (_lab_each_task): "PID COMM"
# for a task that has SIGKILL pending and is neither exited nor asleep
# in D (the business of _lab_find_hung).
_lab_print_if_killed() {
	case $2 in
	Z | X | D | "") return 0 ;;
	esac
	_k_pending=0
	# (The task may exit between the listing and the read.)
	{
		while read -r _k_key _k_value _k_rest; do
			case $_k_key in
			SigPnd: | ShdPnd:)
				case $_k_value in
				"" | *[!0-9a-fA-F]*) ;;
				*) _k_pending=$((_k_pending | 0x$_k_value)) ;;
				esac ;;
			esac
		done <"/proc/$1/status"
	} 2>/dev/null || return 0
	# SIGKILL is signal 9: bit 8 of the masks.
	[ $((_k_pending & 0x100)) -eq 0 ] || printf '%s %s\n' "$1" "$4"
}

# _lab_find_unkillable: the tasks still alive LAB_UNKILLABLE_GRACE seconds
# after a SIGKILL, "PID COMM" per line in $_lab_work/unkillable (empty if
# none), looked for every tenth of a second. A task of a correct driver
# is gone within milliseconds; one that a loop in the driver keeps in the
# kernel never leaves, on a fast machine or a slow one. The grace is
# counted on the clock (the looks are slow when such tasks hold the
# CPUs), and spent once a run: after a task has outlived it, one look.
_lab_find_unkillable() {
	if [ -e "$_lab_work/unkillable-seen" ]; then
		_lab_killed_tasks >"$_lab_work/unkillable"
		[ -s "$_lab_work/unkillable" ] || return 0
		return 1
	fi
	_lab_listed_for _lab_killed_tasks "$_lab_work/unkillable" \
		"$LAB_UNKILLABLE_GRACE" && return 0
	: >"$_lab_work/unkillable-seen"
	return 1
}

# Whole seconds since boot.
_lab_uptime() {
	read -r _up_s _up_idle </proc/uptime
	echo "${_up_s%%.*}"
}

# _lab_unkillable_report: the diagnostic lines for the tasks in
# $_lab_work/unkillable: how many, where the CPUs are (a running task has
# no stack to read from /proc: the backtrace of every CPU that sysrq-l
# prints to the kernel log names the loop's function), and where those
# of the tasks that are off their CPU are (/proc/PID/stack).
_lab_unkillable_report() {
	read -r _u_pid _u_comm <"$_lab_work/unkillable" || return 0
	_u_n=$(wc -l <"$_lab_work/unkillable")
	echo "task $_u_pid ($_u_comm) was killed with SIGKILL, and $LAB_UNKILLABLE_GRACE s later it still runs in the kernel"
	[ "$_u_n" -le 1 ] || echo "and $((_u_n - 1)) more task(s) like it"
	echo "a loop in the driver that never sleeps and never returns (a wait condition that is already true, a while loop whose condition never changes): it ignores every signal and keeps a CPU busy"
	echo l >/proc/sysrq-trigger 2>/dev/null || return 0
	# sysrq-l returns once every CPU has printed its backtrace: the
	# lab's own functions in it, where the CPU was (RIP) or in its call
	# trace (a loop around cond_resched() is caught inside the
	# scheduler), leaving out the unreliable "?" frames.
	dmesg | sed -n '/sysrq: Show backtrace of all active CPUs/,$p' |
		_lab_module_frames 3 | sed 's/^/a CPU was running in: /'
	# What a CPU ran at that moment may not be such a task (another
	# task, the interrupt that sysrq-l's own output raised): the kernel
	# stacks of the tasks off their CPU name the loop too, whatever the
	# moment. A stack read while its task runs may be empty.
	while read -r _u_pid _u_comm; do
		_lab_module_frames 3 <"/proc/$_u_pid/stack" 2>/dev/null
	done <"$_lab_work/unkillable" | awk '!seen[$0]++' | head -n 3 |
		sed 's/^/such a task was in: /'
	echo "the backtraces of the CPUs (sysrq-l) are in the kernel log below"
}

# _lab_hung_report: the diagnostic lines for the tasks in $_lab_work/hung:
# how many, and the first one's kernel stack.
_lab_hung_report() {
	_h_n=0
	while read -r _h_pid _h_comm; do
		_h_n=$((_h_n + 1))
		[ "$_h_n" -eq 1 ] || continue
		echo "task $_h_pid ($_h_comm) is stuck in state D (uninterruptible sleep), in:"
		_h_f=0
		while IFS= read -r _h_frame && [ "$_h_f" -lt 8 ]; do
			echo "  ${_h_frame#\[<0>\] }"
			_h_f=$((_h_f + 1))
		done <"/proc/$_h_pid/stack" 2>/dev/null || true
	done <"$_lab_work/hung"
	[ "$_h_n" -le 1 ] || echo "and $((_h_n - 1)) more task(s) stuck in state D"
	echo "no signal can end such a sleep: wait_event() or mutex_lock() where the _interruptible form belongs, or a lock or semaphore never released"
}

# _lab_run_tests DIR PROGRAM: run a test program and report its results.
#
# A hang ends the program at a point that does not depend on timing: when
# the harness kills a test for overstaying its timeout, and a task is then
# still in state D (_lab_find_hung), the device is stuck for good. The
# program is stopped there, and the tests it did not reach fail as not
# run. (The stuck task keeps the program's output open, so waiting for
# its end would wait for ever.) A task left in state D by a test that did
# not overstay (a call made in a child process) is found at the end, by
# _lab_check_log.
_lab_run_tests() {
	_lab_why_missing="the test program did not report this test (it crashed, hung or was stopped)"
	# LABKIT_ONLY (guest/init: the host's only=, for make check's hand
	# mutants): the tests to run, comma-separated; kselftest's -t NAME
	# runs those and no other.
	_t_dir=$1
	_t_prog=$2
	set --
	if [ -n "${LABKIT_ONLY:-}" ]; then
		for _t_only in $(echo "$LABKIT_ONLY" | tr , ' '); do
			set -- "$@" -t "$_t_only"
		done
		_lab_why_missing="not run: this run was asked for $LABKIT_ONLY only"
	fi
	: >"$_lab_work/testprog-pid"
	# Where a test asks for the tests to stop (userspace/tests_stop.h).
	LABKIT_STOP_FILE=$_lab_work/stop-request
	export LABKIT_STOP_FILE
	: >"$LABKIT_STOP_FILE"
	# Where the test program waits, after each result, until this
	# loop has written it out of the machine (userspace/results_sync.h,
	# answered by the guest's results-sync); without that program (a
	# native run), the results go as they come.
	LABKIT_RESULTS_SYNC=
	if command -v results-sync >/dev/null 2>&1; then
		LABKIT_RESULTS_SYNC=$_lab_work/results-sync
		[ -p "$LABKIT_RESULTS_SYNC" ] || mkfifo "$LABKIT_RESULTS_SYNC" ||
			LABKIT_RESULTS_SYNC=
	fi
	export LABKIT_RESULTS_SYNC
	(
		cd "$_t_dir" || exit 1
		_t_rc=0
		timeout "$LAB_TEST_TIMEOUT" "./$_t_prog" "$@" &
		echo "$!" >"$_lab_work/testprog-pid"
		wait "$!" || _t_rc=$?
		echo "$_t_rc" >"$_lab_work/testprog-status"
	) 2>&1 </dev/null | _lab_parse_tap
	_lab_sync
	_lab_kill_leftovers
	if [ -s "$_lab_work/tests-stop" ]; then
		{ read -r _t_after && read -r _t_why; } <"$_lab_work/tests-stop" || true
		_lab_why_missing="not run: the tests stopped after $_t_after: $_t_why"
		return 0
	fi
	_t_status="?"
	read -r _t_status <"$_lab_work/testprog-status" || true
	case $_t_status in
	0 | 1) ;;
	124 | 143)
		_lab_diag "the test program was stopped after $LAB_TEST_TIMEOUT s"
		;;
	*)
		_lab_diag "the test program exited with status $_t_status"
		;;
	esac
}

_lab_unload() {
	if [ -z "$_lab_loaded" ]; then
		_lab_result module_unloads fail "not checked: the module did not load"
		return 0
	fi
	for _u_mod in $_lab_loaded; do
		if ! _u_out=$(rmmod "$_u_mod" 2>&1); then
			_lab_result module_unloads fail "rmmod $_u_mod failed: $_u_out" \
				"does every open end in a release, and does exit undo all of init?"
			return 0
		fi
	done
	_lab_result module_unloads ok
}

# Save the kernel log since this run started to $_lab_work/log (all of it
# if a flood pushed the start marker out of the ring buffer).
_lab_save_kernel_log() {
	dmesg >"$_lab_work/dmesg" 2>&1 || true
	if grep -q "$_lab_marker" "$_lab_work/dmesg"; then
		_lab_log_wrapped=no
		sed "1,/$_lab_marker/d" "$_lab_work/dmesg" >"$_lab_work/log"
	else
		_lab_log_wrapped=yes
		cp "$_lab_work/dmesg" "$_lab_work/log"
	fi
}

# _lab_exempt_copy_report: the kernel log on stdin, less the one report
# that a_failed_registration_fails_the_load expects (userspace/
# module_copy.h): a test loads a second copy of the lab's module, under
# another module name, to see its init fail when misc_register() (Lab
# 07: class_create()) finds the device's (the class's) name taken. sysfs
# reports that duplicate name with a dump_stack() for every driver,
# correct or not, and debugfs a second
# directory of the module's name. The same reports come when a test
# loads the module itself after the kit's name taker (userspace/
# name_taker.h) took one of its names: its debugfs directory, or a
# later minor's device name (Labs 04-06). The test writes a record right
# before that load and one right after:
#   labkit: expected report: a second copy of MODULE
#   labkit: end of the expected report of MODULE
# (MODULE one of LAB_MODULES). Between such a pair, and only there, these
# lines are left out: the first "sysfs: cannot create duplicate filename
# '/devices/virtual/misc/NAME'" (NAME the module's name, or it followed by
# a minor's number), or "... '/class/MODULE'" (Lab 07's class_create()),
# with the dump_stack() lines right after it (CPU:,
# Tainted:, Hardware name:, Call Trace:, <TASK>, frames, the registers of
# the system call, </TASK>), and the first "debugfs: Directory 'MODULE'
# with parent '/' already present!". Anything else in the window still
# counts (a WARNING, an oops, a second sysfs report), and so does a line
# among the dump_stack() ones that is not one; a begin without its end
# leaves everything in. When the ring buffer wrapped during the run
# (_lab_log_wrapped=yes: a module that floods the log at every load
# pushes the begin record out before the report comes), an end record
# whose begin is gone opens its window at the previous end record, or
# at the first line kept.
# Anyone can write those records (a test program, a module's printk()):
# that gains nothing, as what they exempt is only that exact report, which
# the kernel prints whoever registers the lab's names a second time and
# which says nothing about the driver: the load that makes it is judged
# by the test.
_lab_exempt_copy_report() {
	awk -v mods="$LAB_MODULES" -v q="'" -v wrapped="${_lab_log_wrapped:-no}" '
	function strip(l) {
		sub(/^\[[^]]*\] ?/, "", l)
		return l
	}
	function stack_line(l) {
		return l ~ /^CPU: [0-9]+ (UID: [0-9]+ )?PID: [0-9]+ Comm: / ||
		    l ~ /^Tainted: \[/ || l ~ /^Hardware name: / ||
		    l == "Call Trace:" || l ~ /^ *<\/?TASK>$/ ||
		    l ~ /^ +(\? )?[A-Za-z0-9_.]+\+0x[0-9a-f]+\/0x[0-9a-f]+( \[[A-Za-z0-9_]+\])?$/ ||
		    l ~ /^ +(\? )?0x[0-9a-f]+$/ ||
		    l ~ /^(RIP|Code|RSP|RAX|RDX|RBP|R10|R13): /
	}
	# Leave out, between lines i and j (not included), the report of
	# module mod.
	function exempt(i, j, mod,    k, l, sysfs, dbg, dup, cls) {
		sysfs = 0
		dbg = 0
		dup = "sysfs: cannot create duplicate filename " q "/devices/virtual/misc/" mod
		cls = "sysfs: cannot create duplicate filename " q "/class/" mod q
		for (k = i + 1; k < j; k++) {
			l = t[k]
			if (!sysfs && (l == cls ||
			    substr(l, 1, length(dup)) == dup &&
			    substr(l, length(dup) + 1) ~ ("^[0-9]*" q "$"))) {
				sysfs = 1
				keep[k] = 0
				while (k + 1 < j && stack_line(t[k + 1])) {
					k++
					keep[k] = 0
					if (t[k] ~ /^ *<\/TASK>$/)
						break
				}
			} else if (!dbg && l == "debugfs: Directory " q mod q " with parent " q "/" q " already present!") {
				dbg = 1
				keep[k] = 0
			}
		}
	}
	{ raw[NR] = $0; t[NR] = strip($0); keep[NR] = 1 }
	END {
		n = split(mods, m, " ")
		last = 0
		for (j = 1; j <= NR; j++) {
			mod = ""
			for (k = 1; k <= n; k++)
				if (t[j] == "labkit: end of the expected report of " m[k])
					mod = m[k]
			if (mod == "")
				continue
			for (i = j - 1; i > last; i--)
				if (t[i] == "labkit: expected report: a second copy of " mod)
					break
			if (i > last || wrapped == "yes")
				exempt(i, j, mod)
			last = j
		}
		for (i = 1; i <= NR; i++)
			if (keep[i])
				print raw[i]
	}'
}

_lab_check_log() {
	if [ "$_lab_module_loaded" != yes ]; then
		_lab_save_kernel_log
		_lab_result kernel_log_clean fail \
			"not checked: the module did not load, so there is no run to judge"
		return 0
	fi
	_c_hung=
	if ! _lab_find_hung; then
		_c_hung=$(_lab_hung_report)
	elif ! _lab_find_unkillable; then
		_c_hung=$(_lab_unkillable_report)
	fi
	_lab_save_kernel_log
	_c_taint=$(($(_lab_taint) & ~_lab_taint_before & _LAB_BAD_TAINT))
	_lab_exempt_copy_report <"$_lab_work/log" >"$_lab_work/judged"
	_c_bad=$(grep -E "$_LAB_BAD_LOG" "$_lab_work/judged" | head -n 5)
	if [ -n "$_c_hung" ]; then
		_lab_result kernel_log_clean fail "$_c_hung"
	elif [ -n "$_c_bad" ]; then
		_lab_result kernel_log_clean fail \
			"$(_lab_log_report "$_lab_work/judged")"
	elif [ "$_c_taint" -ne 0 ]; then
		_lab_result kernel_log_clean fail \
			"the kernel was tainted (flags $_c_taint) during the run"
	else
		_lab_result kernel_log_clean ok
	fi
}

# _lab_check_named LINES: which of the kernel's checks printed a report
# that starts with LINES (a description a student can act on).
_lab_check_named() {
	case $1 in
	*"circular locking dependency"*)
		echo "lockdep: a lock-order inversion (two locks taken in opposite orders by two paths: a deadlock waiting to happen)" ;;
	*"recursive locking"*)
		echo "lockdep: a lock taken again by the task that already holds it" ;;
	*"bad unlock balance"*)
		echo "lockdep: a lock released that this task does not hold (an unlock on a path that did not lock)" ;;
	*"lock held when returning to user space"*)
		echo "lockdep: a call returned to user space with a lock still held (an error path that forgot to unlock)" ;;
	*"held lock freed"*)
		echo "lockdep: memory freed while a lock inside it is held" ;;
	*"non-static key"*)
		echo "lockdep: a lock used before it was initialised (mutex_init/spin_lock_init/sema_init must come before the device is registered)" ;;
	*"do not call blocking ops"*)
		echo "the atomic-sleep check: a call that may sleep (mutex_lock, down, copy_to_user...) inside a wait_event() condition, where the task is already marked as sleeping: compute the condition without sleeping calls" ;;
	*"Invalid wait context"* | *"sleeping function called from invalid context"* | *"scheduling while atomic"*)
		echo "the atomic-sleep check: a call that may sleep (mutex_lock, copy_to_user, copy_from_user, kmalloc(GFP_KERNEL)...) made while a spinlock is held or interrupts are off" ;;
	*"KASAN:"*)
		_n_kind=${1#*KASAN: }
		echo "KASAN: ${_n_kind%% *} (an access to memory outside an object, or to an object already freed)" ;;
	*DEBUG_LOCKS_WARN_ON* | *"BUG: spinlock"* | *"BUG: rwlock"*)
		echo "the lock debugging checks: a lock misused (unlocked twice, unlocked by another task, or corrupted)" ;;
	*"list_add corruption"* | *"list_del corruption"* | *"list_add double add"*)
		echo "the list debugging check: a list entry added twice, or removed when it was not on the list" ;;
	*ODEBUG:*)
		echo "the object debugging check: an object (timer, work, ...) freed or reinitialised while still active" ;;
	*"suspicious RCU usage"*)
		echo "the RCU checks: rcu_dereference() outside an RCU read-side section" ;;
	*UBSAN:*)
		echo "UBSAN: undefined behaviour (an out-of-range shift or index, an overflow)" ;;
	*"refcount_t:"*)
		echo "the reference-count check: a count taken below zero or used after it reached zero" ;;
	*debugfs:*"already present"*)
		echo "debugfs: a name that an earlier load of the module left behind (its exit did not remove its debugfs files: debugfs_remove_recursive)" ;;
	*"soft lockup"*)
		echo "the soft-lockup detector: a CPU spun in the kernel for seconds without scheduling" ;;
	*"general protection fault"* | *"NULL pointer dereference"* | *"unable to handle"* | *Oops*)
		echo "an oops: the kernel dereferenced a bad pointer" ;;
	*WARNING:*)
		echo "a kernel warning (WARN_ON): the kernel found its state wrong at the place named below" ;;
	*)
		echo "a kernel error report" ;;
	esac
}

# _lab_module_frames MAX: the lab's modules' functions that the kernel
# log lines on stdin name ("func+0x1c/0x80 [module]", in a call trace or
# as where a CPU was), each once, in order (innermost first), at most
# MAX; not the unreliable "?" frames, nor a return address past its
# function's end.
_lab_module_frames() {
	_f_mods=$(echo "$LAB_MODULES" | sed 's/  */|/g')
	grep -E "[[:alnum:]_.]+\+0x[[:xdigit:]]+/0x[[:xdigit:]]+ \[($_f_mods)\]" |
		grep -v -E ' \? |in frame:|\+(0x[[:xdigit:]]+)/\1 ' |
		sed 's/^.*[] :]\([[:alnum:]_.]*+0x[[:xdigit:]]*\/0x[[:xdigit:]]*\) \[/\1 [/' |
		awk '!seen[$0]++' | head -n "$1"
}

# _lab_log_report [FILE]: print kernel_log_clean's message for a kernel
# log with trouble in it (FILE, by default $_lab_work/log): which check
# fired, the first lines of its report, and the frames of the lab's
# own modules in it (the functions to look at).
_lab_log_report() {
	_r_log=${1:-$_lab_work/log}
	# The report's headline (WARNING:, BUG: ...) rather than a bare
	# "Call Trace:", which another CPU's report may print first.
	_r_first=$(sed 's/Call Trace://' "$_r_log" |
		grep -n -m 1 -E "$_LAB_BAD_LOG" | cut -d: -f1)
	[ -n "$_r_first" ] ||
		_r_first=$(grep -n -m 1 -E "$_LAB_BAD_LOG" "$_r_log" | cut -d: -f1)
	_r_head=$(sed -n "$((_r_first > 1 ? _r_first - 1 : 1)),$((_r_first + 2))p" "$_r_log")
	echo "the kernel's checks reported a problem during the run: $(_lab_check_named "$_r_head")"
	echo "its first lines (the whole kernel log is below):"
	sed -n "${_r_first},$((_r_first + 7))p" "$_r_log" | sed 's/^/  /'
	_r_frames=$(sed -n "${_r_first},\$p" "$_r_log" |
		_lab_module_frames 6)
	if [ -n "$_r_frames" ]; then
		echo "your module's functions in the report (innermost first):"
		echo "$_r_frames" | sed 's/^/  /'
	fi
}

# Print the kernel's taint flags. A sysctl file cannot be read piecemeal,
# so read(1) sees no newline and fails, but it has the number by then.
_lab_taint() {
	_k_taint=0
	read -r _k_taint </proc/sys/kernel/tainted || true
	echo "$_k_taint"
}

# Every test in the plan that reported nothing fails.
_lab_report_missing() {
	for _m_name in $_lab_names; do
		eval "_m_seen=\${_lab_got_$_m_name-}"
		[ -n "$_m_seen" ] || _lab_result "$_m_name" fail "$_lab_why_missing"
	done
}

_lab_show_log() {
	_s_lines=0
	while IFS= read -r _s_line; do
		_s_lines=$((_s_lines + 1))
		if [ "$_s_lines" -le 60 ]; then
			printf '#   %s\n' "$_s_line"
		fi
	done <"$_lab_work/log" >"$_lab_work/log-shown"
	echo "# kernel log of this run ($_s_lines lines):"
	while IFS= read -r _s_line; do
		printf '%s\n' "$_s_line"
	done <"$_lab_work/log-shown"
	if [ "$_s_lines" -gt 60 ]; then
		echo "#   ... $((_s_lines - 60)) more lines not shown"
	fi
}

# _lab_read_plan FILE: read the test names of a points file (the first
# word of every line that is not blank or a '#' comment) into
# _lab_plan_NAME variables, the _lab_names list and _lab_planned. The
# rest of each line (points, visibility) is the host's business.
_lab_read_plan() {
	while read -r _t_name _ || [ -n "$_t_name" ]; do
		case $_t_name in
		"" | "#"*) continue ;;
		*[!a-z0-9_]*)
			_lab_error "bad test name '$_t_name' in $1"
			continue
			;;
		esac
		eval "_r_dup=\${_lab_plan_$_t_name-}"
		if [ -n "$_r_dup" ]; then
			_lab_error "test '$_t_name' is in the points files twice"
			continue
		fi
		eval "_lab_plan_$_t_name=1"
		_lab_names="$_lab_names $_t_name"
		_lab_planned=$((_lab_planned + 1))
	done <"$1"
}

lab_grade() {
	set -f
	case $0 in
	*/*) _lab_here=$(cd "${0%/*}" && pwd) ;;
	*) _lab_here=$(pwd) ;;
	esac
	# A kernel with lockdep (the kit's debug kernel) runs every lock and
	# memory access more slowly: the test program's time limit, and each
	# test's (userspace/harness_main.h), are four times as long there, as
	# the host makes the VM's (vm.DEBUG_SLOWDOWN, which says why four).
	if [ -e /proc/lockdep ]; then
		export LABKIT_TIMEOUT_SCALE=4
		LAB_TEST_TIMEOUT=$((LAB_TEST_TIMEOUT * 4))
	fi
	: "${LAB_MODULE_DIR:=${_lab_here%/*}}"
	# Tests of module parameters reload the module from there.
	export LAB_MODULE_DIR
	# Tests that take one of the module's names first load the kit's
	# name taker from there.
	: "${LAB_KIT_MODULE_DIR:=$LAB_MODULE_DIR}"
	export LAB_KIT_MODULE_DIR
	: "${LAB_TEST_DIR:=$_lab_here}"
	: "${LAB_HIDDEN_DIR:=$_lab_here/../../../grading/hidden/$LAB}"
	: "${LAB_POINTS_FILE:=$_lab_here/points}"
	_lab_work=$(mktemp -d "${TMPDIR:-/tmp}/labkit.XXXXXX")
	# shellcheck disable=SC2064 # expand now: the path is fixed
	trap "rm -rf '$_lab_work'" EXIT
	_lab_done=$_lab_work/done
	: >"$_lab_done"
	_lab_count=0
	_lab_why_missing="not run: the module did not load"

	echo "KTAP version 1"
	echo "# lab $LAB"
	_lab_names=
	_lab_planned=0
	if [ ! -f "$LAB_POINTS_FILE" ]; then
		echo "Bail out! $LAB has no points file ($LAB_POINTS_FILE)"
		return 1
	fi
	_lab_read_plan "$LAB_POINTS_FILE"
	_lab_find_hidden
	echo "1..$_lab_planned"
	for _g_name in $_lab_names; do
		echo "# plan $_g_name"
	done

	_lab_marker="labkit: grading $LAB $$"
	echo "$_lab_marker" >/dev/kmsg
	_lab_taint_before=$(_lab_taint)

	if _lab_load; then
		_lab_run_tests "$LAB_TEST_DIR" "$LAB_TESTPROG"
		if [ -n "$_lab_hidden_prog" ] && [ ! -s "$_lab_work/tests-stop" ]; then
			_lab_run_tests "$LAB_HIDDEN_DIR" "$_lab_hidden_prog"
		fi
	fi
	_lab_unload
	_lab_check_log
	_lab_report_missing
	_lab_show_log
}

# The hidden tests, if LAB_HIDDEN_DIR has them: their program's name in
# _lab_hidden_prog (empty without), their names added to the plan.
_lab_find_hidden() {
	_lab_hidden_prog=
	[ -f "$LAB_HIDDEN_DIR/points" ] || return 0
	set +f # lab_grade turned globbing off
	for _h_prog in "$LAB_HIDDEN_DIR"/hidden_*; do
		if [ -f "$_h_prog" ] && [ -x "$_h_prog" ]; then
			_lab_hidden_prog=${_h_prog##*/}
		fi
	done
	set -f
	[ -n "$_lab_hidden_prog" ] || return 0
	_lab_read_plan "$LAB_HIDDEN_DIR/points"
}
