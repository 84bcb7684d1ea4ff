# check.sh: the shell tests' framework, sourced by tests/test_*.sh (the twin of check.h).
# check NAME CONDITION... counts a pass or a failure; finish prints "N passed, N failed"
# as the last line and exits non-zero when anything failed.
pass=0
fail=0

check() { # check NAME CONDITION...
    name=$1
    shift
    if "$@"; then
        pass=$((pass + 1))
        echo "ok  $name"
    else
        fail=$((fail + 1))
        echo "FAIL $name"
    fi
}

finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit $?
}
