#!/bin/sh
# Installs the Debian packages rlchat builds against when they are missing: as root
# directly, otherwise through sudo when it needs no password; else says what to run.
# Every name added to `missing` starts with a space, so the list is always " a b c".
missing=""
if command -v pkg-config >/dev/null 2>&1; then
    pkg-config --exists ncursesw 2>/dev/null || missing="$missing libncurses-dev"
    pkg-config --exists readline 2>/dev/null || missing="$missing libreadline-dev"
    pkg-config --exists openblas 2>/dev/null || missing="$missing libopenblas-dev"
else
    # Without pkg-config nothing can be asked: install it with every library.
    missing=" pkg-config libncurses-dev libreadline-dev libopenblas-dev"
fi
command -v cc >/dev/null 2>&1 || missing="$missing gcc"
command -v make >/dev/null 2>&1 || missing="$missing make"
[ -z "$missing" ] && exit 0

echo "rlchat: installing missing packages:$missing"
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo"
else
    echo "rlchat: cannot install as this user. Please run:" >&2
    echo "    sudo apt-get install$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # the list is split into package names on purpose
$SUDO apt-get update -qq && $SUDO apt-get install -y -qq $missing >/dev/null || {
    echo "rlchat: apt-get failed; please install:$missing" >&2
    exit 1
}
