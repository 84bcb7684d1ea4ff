#!/bin/sh
# test_deps: tools/deps.sh, the installer `make run` and `make test` start with, run with
# stub pkg-config, cc, make, id, sudo and apt-get on an otherwise empty PATH, for every
# combination of what is missing and of who runs it (root, a user with sudo, a user
# without): the exact apt-get command lines it runs, or the command it tells the user to
# run. Last line: "N passed, N failed".
cd "$(dirname "$0")/.." || exit 1
. tests/check.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rlchat-deps.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM

# Writes the stubs for one case into $TMP/bin: HAVE lists the commands present, MODS the
# pkg-config modules installed, WHO is root, sudo or user.
make_stubs() {
    rm -rf "$TMP/bin" && mkdir "$TMP/bin"
    for c in $HAVE; do
        case $c in
        pkg-config)
            printf '#!/bin/sh\n[ "$1" = --exists ] || exit 1\ncase " %s " in *" $2 "*) exit 0 ;; esac\nexit 1\n' \
                "$MODS" >"$TMP/bin/pkg-config" ;;
        *) printf '#!/bin/sh\nexit 0\n' >"$TMP/bin/$c" ;;
        esac
    done
    uid=1000
    [ "$WHO" = root ] && uid=0
    printf '#!/bin/sh\necho %s\n' "$uid" >"$TMP/bin/id"
    printf '#!/bin/sh\necho "apt-get $*" >>"%s"\n' "$TMP/apt.log" >"$TMP/bin/apt-get"
    if [ "$WHO" = sudo ]; then
        printf '#!/bin/sh\n[ "$1" = -n ] && shift\n[ "$1" = true ] && exit 0\nexec "$@"\n' >"$TMP/bin/sudo"
    else
        printf '#!/bin/sh\nexit 1\n' >"$TMP/bin/sudo"
    fi
    chmod +x "$TMP/bin"/*
}

# The packages deps.sh should ask for, worked out here independently of it.
expected_packages() {
    want=""
    case " $HAVE " in
    *" pkg-config "*)
        for pair in ncursesw:libncurses-dev readline:libreadline-dev openblas:libopenblas-dev; do
            case " $MODS " in *" ${pair%%:*} "*) ;; *) want="$want ${pair#*:}" ;; esac
        done ;;
    *) want=" pkg-config libncurses-dev libreadline-dev libopenblas-dev" ;;
    esac
    case " $HAVE " in *" cc "*) ;; *) want="$want gcc" ;; esac
    case " $HAVE " in *" make "*) ;; *) want="$want make" ;; esac
    echo "$want"
}

run_case() {
    make_stubs
    rm -f "$TMP/apt.log"
    PATH="$TMP/bin" /bin/sh tools/deps.sh >"$TMP/out" 2>&1
    rc=$?
    want=$(expected_packages)
    name="deps.sh with [$HAVE] and modules [$MODS] as $WHO"
    if [ -z "$want" ]; then
        check "$name installs nothing" [ "$rc" = 0 ] && [ ! -e "$TMP/apt.log" ]
        return
    fi
    if [ "$WHO" = user ]; then
        check "$name asks the user to run apt-get" sh -c "[ $rc = 1 ] && [ ! -e '$TMP/apt.log' ] &&
            grep -qxF '    sudo apt-get install$want' '$TMP/out'"
        return
    fi
    printf 'apt-get update -qq\napt-get install -y -qq%s\n' "$want" >"$TMP/expected"
    check "$name runs apt-get update, then install$want" sh -c "[ $rc = 0 ] && cmp -s '$TMP/expected' '$TMP/apt.log'"
}

for WHO in root sudo user; do
    for tools in "cc make" "cc" "make" ""; do
        HAVE="$tools"
        MODS=""
        run_case
        for MODS in "" "ncursesw" "readline" "openblas" "ncursesw readline" "ncursesw openblas" \
            "readline openblas" "ncursesw readline openblas"; do
            HAVE="pkg-config $tools"
            run_case
        done
    done
done
finish
