#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The runner's own rules (run.sh): a test that leaves sch_pspat loaded or a
# netns behind fails, and what it left is removed so the next test starts
# clean; under --strict a skip fails unless the test names its reason in a
# "# skip-ok:" line. Planted tests in $tmp, run by a nested run.sh.
. "$(dirname "$0")/lib.sh"
need_vm
need_unloaded
make_tmp
ktap_plan 7

# plant NAME BODY: a test file $tmp/test_NAME.sh running BODY.
plant() {
	printf '#!/bin/bash\n. %q\n%s\n' "$SELFTESTS_DIR/lib.sh" "$2" >"$tmp/test_$1.sh"
}
plant leaves_module 'ktap_plan 1; insmod "$PSPAT_KO"; ktap_pass loaded; ktap_finish'
plant leaves_netns 'ktap_plan 1; ip netns add pspat-planted; ktap_pass netns; ktap_finish'
plant after 'ktap_plan 1; check "sch_pspat unloaded" need_unloaded; ktap_finish'
plant skips 'skip_all "planted reason"'
plant skips_ok '# skip-ok: planted reason
skip_all "planted reason"'
plant check_skips 'ktap_plan 2; ktap_pass one; ktap_skip two "planted reason"; ktap_finish'

run() { "$SELFTESTS_DIR/run.sh" "$@" >"$tmp/out" 2>&1; }
line() { grep -E "^(not )?ok [0-9]+ $1( |$)" "$tmp/out"; }
run "$tmp/test_leaves_module.sh" "$tmp/test_leaves_netns.sh" "$tmp/test_after.sh"
check "a test leaving sch_pspat loaded fails" eval 'line leaves_module | grep -q "^not ok"'
check "a test leaving a netns fails" eval 'line leaves_netns | grep -q "^not ok"'
check "the next test starts clean" eval 'line after | grep -q "^ok"'
run --strict "$tmp/test_skips.sh"
check "--strict: a skip the test does not allow fails" eval 'line skips | grep -q "^not ok"'
run --strict "$tmp/test_skips_ok.sh"
check "--strict: a skip the test allows is a skip" eval 'line skips_ok | grep -q "# SKIP"'
run --strict "$tmp/test_check_skips.sh"
check "--strict: a skipped check the test does not allow fails" eval 'line check_skips | grep -q "^not ok"'
run "$tmp/test_skips.sh"
check "without --strict a skip is a skip" eval 'line skips | grep -q "# SKIP"'
pspat_loaded && rmmod sch_pspat
ktap_finish
