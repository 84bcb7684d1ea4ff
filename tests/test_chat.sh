#!/bin/sh
# test_chat: the chat end to end, on a tiny model trained here in a second.
#   plain mode: replies, rating, undo, save, restart with the profile, corrupt profiles,
#     a 1 MB line, invalid UTF-8, reproducible seeds, export, regenerate/prefer, settings,
#     `rlchat simulate`'s report;
#   the screen under tmux: a reply, rating with +, u after an undo, broken UTF-8 typed, the
#     help overlay, resizing, quitting with the terminal restored, Ctrl-C twice, SIGTERM.
# Run from the repository root after `make`. Last line: "N passed, N failed".
cd "$(dirname "$0")/.." || exit 1
BIN=${RLCHAT_BUILD:-build}/rlchat
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rlchat-test.XXXXXX") || exit 1
SOCK="rlchat-test-$$"
cleanup() {
    command -v tmux >/dev/null 2>&1 && tmux -L "$SOCK" kill-server >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

. tests/check.sh

if [ ! -x "$BIN" ]; then
    echo "FAIL rlchat is not built (run make)"
    fail=1
    finish
fi

# ---- the fixture: a tiny model and a one-entry block list ----
cat >"$TMP/corpus.txt" <<'CORPUS'
hello there
hi! how are you?

what is your name?
i am a small chat model.

do you like music?
yes, i like music a lot.

how is the weather?
it is sunny and warm today.

tell me a joke
why did the cat sit on the computer? to keep an eye on the mouse.
CORPUS
mkdir -p "$TMP/assets"
printf '# test list\ninsult 2 stupidhead\n' >"$TMP/assets/blocklist.txt"
if ! $BIN train --corpus "$TMP/corpus.txt" --out "$TMP/tiny.model" --vocab 300 --embed 16 --hidden 32 \
    --layers 1 --batch 2 --seq 16 --epochs 3 >"$TMP/train.log" 2>&1; then
    cat "$TMP/train.log"
    echo "FAIL the tiny model could not be trained"
    fail=1
    finish
fi
XDG_DATA_HOME="$TMP/data"
export XDG_DATA_HOME
PROFILES="$XDG_DATA_HOME/rlchat"

chat() { # chat ARGS... : plain mode on the fixture; stdin is the script
    $BIN --model "$TMP/tiny.model" --assets "$TMP/assets" --plain "$@"
}
crcs() { sed -n 's/^weights *crc32 //p' "$1"; }
nth() { sed -n "${1}p"; }
commands() { $BIN --help | sed -n 's/^  \([a-z-]*\)  .*/\1/p'; } # the commands rlchat --help lists

# ---- plain mode ----

test_plain_mode_prints_one_line_per_reply() {
    printf 'hello\nhow are you\n' | chat --seed 1 >"$TMP/o1" 2>"$TMP/e1" &&
        [ "$(wc -l <"$TMP/o1")" -eq 2 ]
}
check test_plain_mode_prints_one_line_per_reply test_plain_mode_prints_one_line_per_reply

test_not_a_terminal_means_plain_mode() {
    printf 'hello\n' | $BIN --model "$TMP/tiny.model" --assets "$TMP/assets" --seed 1 >"$TMP/o2" 2>/dev/null &&
        [ "$(wc -l <"$TMP/o2")" -eq 1 ]
}
check test_not_a_terminal_means_plain_mode test_not_a_terminal_means_plain_mode

test_rating_changes_weights_and_undo_restores_them() {
    printf 'hello\n/show\n/good\n/show\n/undo\n/show\n' | chat --seed 2 >/dev/null 2>"$TMP/e3" || return 1
    c0=$(crcs "$TMP/e3" | nth 1)
    c1=$(crcs "$TMP/e3" | nth 2)
    c2=$(crcs "$TMP/e3" | nth 3)
    [ -n "$c0" ] && [ "$c0" != "$c1" ] && [ "$c0" = "$c2" ]
}
check test_rating_changes_weights_and_undo_restores_them test_rating_changes_weights_and_undo_restores_them

test_profile_survives_a_restart() {
    printf 'hello\n/good\nwhat is your name?\n/rate 4\n/show\n/save\n/quit\n' | chat --seed 3 --profile p1 >/dev/null 2>"$TMP/e4" ||
        return 1
    saved=$(crcs "$TMP/e4" | nth 1)
    [ -f "$PROFILES/p1.profile" ] || return 1
    printf '/show\n' | chat --seed 3 --profile p1 >/dev/null 2>"$TMP/e5" || return 1
    loaded=$(crcs "$TMP/e5" | nth 1)
    [ -n "$saved" ] && [ "$saved" = "$loaded" ] && grep -q '^ratings *2 ' "$TMP/e5"
}
check test_profile_survives_a_restart test_profile_survives_a_restart

test_a_new_profile_writes_nothing_until_saved() {
    printf 'hello\n' | chat --seed 1 --profile fresh >/dev/null 2>"$TMP/e4n" || return 1
    [ ! -e "$PROFILES/fresh.profile" ] && grep -q 'new profile fresh' "$TMP/e4n"
}
check test_a_new_profile_writes_nothing_until_saved test_a_new_profile_writes_nothing_until_saved

# Teaching by example in plain mode: /edit TEXT prints your version as the reply, logs the
# reply shown ("edit") and yours ("edited"), counts as one rating, and undo takes it back.
test_edit_teaches_your_version_and_logs_both() {
    printf 'hello\n/show\n/edit yes, i like music a lot.\n/show\n/undo\n/show\n/save ed\n' |
        chat --seed 2 --profile ed >"$TMP/o-ed" 2>"$TMP/e-ed" || return 1
    c0=$(crcs "$TMP/e-ed" | nth 1)
    c1=$(crcs "$TMP/e-ed" | nth 2)
    c2=$(crcs "$TMP/e-ed" | nth 3)
    [ "$(sed -n 2p "$TMP/o-ed")" = "yes, i like music a lot." ] && [ "$c0" != "$c1" ] && [ "$c0" = "$c2" ] &&
        [ "$(cut -f4 "$PROFILES/ed.feedback.log" | tr '\n' ' ')" = "edit edited undo " ] &&
        [ "$(cut -f3 "$PROFILES/ed.feedback.log" | sed -n 2p)" = "yes, i like music a lot." ] &&
        printf '/edit\n' | chat --seed 2 2>&1 >/dev/null | grep -q 'usage: /edit'
}
check test_edit_teaches_your_version_and_logs_both test_edit_teaches_your_version_and_logs_both

# The shipped model changes: a profile made on the earlier one starts on it when it is kept
# in the assets folder (under any name), and otherwise is reported, kept and never moved
# aside or saved over unless asked.
test_a_profile_keeps_its_base_model_when_the_shipped_one_changes() {
    A="$TMP/upgrade"
    mkdir -p "$A" && cp "$TMP/assets/blocklist.txt" "$A/" && cp "$TMP/tiny.model" "$A/rlchat.model" || return 1
    $BIN train --corpus "$TMP/corpus.txt" --out "$TMP/tiny2.model" --vocab 300 --embed 16 --hidden 32 \
        --layers 1 --batch 2 --seq 16 --epochs 3 --seed 7 >/dev/null 2>&1 || return 1
    printf 'hello\n/good\n/save\n' | $BIN --assets "$A" --plain --seed 1 --profile up >/dev/null 2>&1 || return 1
    cp "$PROFILES/up.profile" "$TMP/up.copy"
    mv "$A/rlchat.model" "$A/rlchat-v1.model" && cp "$TMP/tiny2.model" "$A/rlchat.model"
    printf '/show\n' | $BIN --assets "$A" --plain --profile up >/dev/null 2>"$TMP/e-up1" || return 1
    grep -q 'made on the base model .*rlchat-v1.model: using it' "$TMP/e-up1" && grep -q '^ratings *1 ' "$TMP/e-up1" ||
        return 1
    rm "$A/rlchat-v1.model"
    printf '/save\n/show\n' | $BIN --assets "$A" --plain --profile up >/dev/null 2>"$TMP/e-up2" || return 1
    grep -q 'made on the base model rlchat.model' "$TMP/e-up2" && grep -q 'Put that model file' "$TMP/e-up2" &&
        grep -q 'up! to replace it' "$TMP/e-up2" && ! grep -q corrupt "$TMP/e-up2" &&
        [ ! -e "$PROFILES/up.profile.corrupt" ] && cmp -s "$PROFILES/up.profile" "$TMP/up.copy"
}
check test_a_profile_keeps_its_base_model_when_the_shipped_one_changes \
    test_a_profile_keeps_its_base_model_when_the_shipped_one_changes

# Run from another folder, a checkout's rlchat finds the assets beside it; a copy elsewhere
# says where it looked and what to do.
test_rlchat_runs_from_another_folder_or_says_what_to_do() {
    top=$(pwd)
    [ -x "$top/rlchat" ] && [ -f "$top/assets/rlchat.model" ] || { echo "# no ./rlchat or shipped model"; return 0; }
    (cd "$TMP" && env -u RLCHAT_ASSETS "$top/rlchat" sample --seed 1 --prompt hi >/dev/null) || return 1
    [ -f /usr/local/share/rlchat/rlchat.model ] && { echo "# rlchat is installed: a copy would find it"; return 0; }
    mkdir -p "$TMP/elsewhere" && cp "$top/rlchat" "$TMP/elsewhere/rlchat"
    (cd "$TMP/elsewhere" && env -u RLCHAT_ASSETS ./rlchat sample --prompt hi >/dev/null 2>"$TMP/e-where") && return 1
    grep -q 'make install' "$TMP/e-where" && grep -q -- '--assets DIR' "$TMP/e-where" &&
        grep -q 'RLCHAT_ASSETS' "$TMP/e-where"
}
check test_rlchat_runs_from_another_folder_or_says_what_to_do test_rlchat_runs_from_another_folder_or_says_what_to_do

# Saves killed with SIGKILL at random moments leave NAME.profile.tmp.PID behind; the next
# start with the profile removes them (one is planted for a process known to be gone, so
# the sweep is tested even when no kill landed inside a save), and the profile still loads.
test_temporaries_of_killed_saves_are_gone_after_a_restart() {
    printf 'hello\n/good\n/save k\n' | chat --seed 1 --profile k >/dev/null 2>&1 || return 1
    for i in 1 2 3 4 5 6 7 8; do
        (printf 'hello\n/good\n'; while :; do printf '/save k!\n'; done) |
            $BIN --model "$TMP/tiny.model" --assets "$TMP/assets" --plain --seed "$i" --profile k >/dev/null 2>&1 &
        sleep "$(awk -v s="$i" 'BEGIN { srand(s); printf "%.2f", 0.05 + rand() * 0.3 }')"
        kill -9 $! 2>/dev/null
        wait $! 2>/dev/null
    done
    echo "# temporaries left by 8 kills: $(ls "$PROFILES" | grep -c '\.tmp\.')"
    sh -c 'exit 0' & dead=$!
    wait $dead
    : >"$PROFILES/k.profile.tmp.$dead"
    printf '/show\n' | chat --profile k >/dev/null 2>"$TMP/e4k" || return 1
    ! ls "$PROFILES" | grep -q '\.tmp\.' && grep -q '^ratings *[1-9]' "$TMP/e4k"
}
check test_temporaries_of_killed_saves_are_gone_after_a_restart test_temporaries_of_killed_saves_are_gone_after_a_restart

test_feedback_log_has_one_line_per_rating() {
    [ "$(wc -l <"$PROFILES/p1.feedback.log")" -eq 2 ] &&
        [ "$(cut -f4 "$PROFILES/p1.feedback.log" | tr '\n' ' ')" = "+1 4/5 " ] &&
        [ "$(head -n 1 "$PROFILES/p1.feedback.log" | awk -F '\t' '{print NF}')" -eq 11 ]
}
check test_feedback_log_has_one_line_per_rating test_feedback_log_has_one_line_per_rating

test_saved_profile_gives_the_same_replies_for_the_same_seed() {
    printf 'hello\nwhat is your name?\n' | chat --seed 9 --profile p1 >"$TMP/o6a" 2>/dev/null &&
        printf 'hello\nwhat is your name?\n' | chat --seed 9 --profile p1 >"$TMP/o6b" 2>/dev/null &&
        cmp -s "$TMP/o6a" "$TMP/o6b" && [ -s "$TMP/o6a" ]
}
check test_saved_profile_gives_the_same_replies_for_the_same_seed \
    test_saved_profile_gives_the_same_replies_for_the_same_seed

test_same_seed_gives_same_replies() {
    printf 'hello\ntell me a joke\ndo you like music?\n' | chat --seed 42 >"$TMP/o7a" 2>/dev/null &&
        printf 'hello\ntell me a joke\ndo you like music?\n' | chat --seed 42 >"$TMP/o7b" 2>/dev/null &&
        cmp -s "$TMP/o7a" "$TMP/o7b"
}
check test_same_seed_gives_same_replies test_same_seed_gives_same_replies

test_corrupt_profile_is_reported_and_chat_still_works() {
    mkdir -p "$PROFILES"
    printf 'this is not a profile' >"$PROFILES/bad.profile"
    cp "$PROFILES/bad.profile" "$TMP/bad.copy"
    printf 'hello\n' | chat --seed 1 --profile bad >"$TMP/o8" 2>"$TMP/e8" || return 1
    [ "$(wc -l <"$TMP/o8")" -eq 1 ] && grep -q 'cannot load profile bad' "$TMP/e8" &&
        grep -q 'base model' "$TMP/e8" && cmp -s "$PROFILES/bad.profile" "$TMP/bad.copy"
}
check test_corrupt_profile_is_reported_and_chat_still_works test_corrupt_profile_is_reported_and_chat_still_works

test_saving_over_a_corrupt_profile_keeps_it_aside() {
    printf 'hello\n/good\n/save\n' | chat --seed 1 --profile bad >/dev/null 2>"$TMP/e9" || return 1
    cmp -s "$PROFILES/bad.profile.corrupt" "$TMP/bad.copy" &&
        printf '/show\n' | chat --profile bad 2>&1 >/dev/null | grep -q '^ratings *1 '
}
check test_saving_over_a_corrupt_profile_keeps_it_aside test_saving_over_a_corrupt_profile_keeps_it_aside

test_a_second_unreadable_profile_does_not_replace_the_first_kept_aside() {
    printf 'still not a profile' >"$PROFILES/bad.profile"
    printf 'hello\n/good\n/save\n' | chat --seed 1 --profile bad >/dev/null 2>"$TMP/e9b" || return 1
    cmp -s "$PROFILES/bad.profile.corrupt" "$TMP/bad.copy" &&
        [ "$(cat "$PROFILES/bad.profile.corrupt.2")" = 'still not a profile' ] &&
        grep -q 'moved to .*bad.profile.corrupt.2' "$TMP/e9b"
}
check test_a_second_unreadable_profile_does_not_replace_the_first_kept_aside \
    test_a_second_unreadable_profile_does_not_replace_the_first_kept_aside

test_save_does_not_replace_another_profile_unless_told() {
    cp "$PROFILES/bad.profile" "$TMP/bad.now"
    printf 'hello\n/good\n/save bad\n' | chat --seed 2 >/dev/null 2>"$TMP/e9c" || return 1
    grep -q 'already a profile named bad.*/save bad!' "$TMP/e9c" && cmp -s "$PROFILES/bad.profile" "$TMP/bad.now" &&
        printf 'hello\n/good\nagain\n/good\n/save bad!\n' | chat --seed 2 >/dev/null 2>&1 &&
        printf '/show\n' | chat --profile bad 2>&1 >/dev/null | grep -q '^ratings *2 '
}
check test_save_does_not_replace_another_profile_unless_told test_save_does_not_replace_another_profile_unless_told

test_load_does_not_drop_unsaved_updates_unless_told() {
    printf 'hello\n/good\n/load p1\n/show\n/load p1!\n/show\n' | chat --seed 2 >/dev/null 2>"$TMP/e9f" || return 1
    grep -q '1 unsaved updates would be lost: /save first, or /load p1! to drop them' "$TMP/e9f" &&
        grep -q '^profile *(none)' "$TMP/e9f" && grep -q 'loaded profile p1' "$TMP/e9f" &&
        grep -q '^profile *p1' "$TMP/e9f"
}
check test_load_does_not_drop_unsaved_updates_unless_told test_load_does_not_drop_unsaved_updates_unless_told

test_reset_does_not_drop_unsaved_updates_unless_told() {
    printf 'hello\n/good\n/reset\n/show\n/reset!\n/show\n' | chat --seed 2 >/dev/null 2>"$TMP/e9i" || return 1
    grep -q '1 unsaved updates would be lost: /save first, or /reset! to drop them' "$TMP/e9i" &&
        grep -q 'back to the base model' "$TMP/e9i" &&
        [ "$(awk '/^ratings/ { printf "%s ", $2 }' "$TMP/e9i")" = "1 0 " ]
}
check test_reset_does_not_drop_unsaved_updates_unless_told test_reset_does_not_drop_unsaved_updates_unless_told

test_ratings_before_the_first_save_reach_its_feedback_log() {
    printf 'hello\n/good\nhow are you\n/rate 4\n/save firstsave\n/models\n' | chat --seed 3 >/dev/null 2>"$TMP/e9g" &&
        [ "$(wc -l <"$PROFILES/firstsave.feedback.log")" -eq 2 ] && grep -q '^  firstsave .* 2 ratings' "$TMP/e9g" &&
        printf 'hello\n/good\n/load firstsave!\n' | chat --seed 3 >/dev/null 2>&1 &&
        [ "$(wc -l <"$PROFILES/firstsave.feedback.log")" -eq 2 ]
}
check test_ratings_before_the_first_save_reach_its_feedback_log \
    test_ratings_before_the_first_save_reach_its_feedback_log

test_ratings_dropped_by_a_reset_do_not_reach_the_next_saves_feedback_log() {
    printf 'hello\n/good\n/reset!\n/save aftereset\n/models\n' | chat --seed 3 >/dev/null 2>"$TMP/e9j" &&
        [ ! -s "$PROFILES/aftereset.feedback.log" ] && grep -q '^  aftereset .* 0 ratings' "$TMP/e9j"
}
check test_ratings_dropped_by_a_reset_do_not_reach_the_next_saves_feedback_log \
    test_ratings_dropped_by_a_reset_do_not_reach_the_next_saves_feedback_log

test_autosave_without_a_profile_does_not_replace_default() {
    printf 'hello\n/good\n' | chat --seed 3 --autosave >/dev/null 2>&1 &&
        cp "$PROFILES/default.profile" "$TMP/default.first" &&
        printf 'hello\n/good\n' | chat --seed 4 --autosave >/dev/null 2>"$TMP/e9d" &&
        cmp -s "$PROFILES/default.profile" "$TMP/default.first" && [ -s "$PROFILES/default-2.profile" ] &&
        grep -q 'saved profile default-2' "$TMP/e9d"
}
check test_autosave_without_a_profile_does_not_replace_default test_autosave_without_a_profile_does_not_replace_default

test_a_reader_that_goes_away_does_not_cost_the_autosave() {
    (printf 'hello\n/good\n'; sleep 1; printf 'more\n') | chat --seed 5 --autosave --profile gone 2>/dev/null |
        head -c 0
    [ -s "$PROFILES/gone.profile" ] && printf '/show\n' | chat --profile gone 2>&1 >/dev/null | grep -q '^ratings *1 '
}
check test_a_reader_that_goes_away_does_not_cost_the_autosave \
    test_a_reader_that_goes_away_does_not_cost_the_autosave

test_a_file_size_limit_fails_the_save_with_a_message_and_keeps_the_old_one() {
    cp "$PROFILES/gone.profile" "$TMP/gone.before"
    (ulimit -f 16 && printf 'hello\n/good\n/save\n' | chat --seed 6 --profile gone >/dev/null 2>"$TMP/e9e")
    grep -q 'save failed' "$TMP/e9e" && cmp -s "$PROFILES/gone.profile" "$TMP/gone.before" &&
        [ -z "$(ls "$PROFILES" | grep '\.tmp\.')" ]
}
check test_a_file_size_limit_fails_the_save_with_a_message_and_keeps_the_old_one \
    test_a_file_size_limit_fails_the_save_with_a_message_and_keeps_the_old_one

test_truncated_profile_is_reported() {
    head -c 200 "$PROFILES/p1.profile" >"$PROFILES/cut.profile"
    printf 'hello\n' | chat --seed 1 --profile cut >"$TMP/o10" 2>"$TMP/e10" &&
        [ "$(wc -l <"$TMP/o10")" -eq 1 ] && grep -q 'cannot load profile cut' "$TMP/e10"
}
check test_truncated_profile_is_reported test_truncated_profile_is_reported

test_profile_from_another_base_model_is_refused() {
    $BIN train --corpus "$TMP/corpus.txt" --out "$TMP/other.model" --vocab 300 --embed 16 --hidden 32 \
        --layers 1 --batch 2 --seq 16 --epochs 3 --seed 7 >/dev/null 2>&1 || return 1
    printf 'hello\n' | $BIN --model "$TMP/other.model" --assets "$TMP/assets" --plain --profile p1 \
        >"$TMP/o11" 2>"$TMP/e11" &&
        [ "$(wc -l <"$TMP/o11")" -eq 1 ] && grep -q 'made on the base model tiny.model' "$TMP/e11" &&
        ! grep -q corrupt "$TMP/e11"
}
check test_profile_from_another_base_model_is_refused test_profile_from_another_base_model_is_refused

test_a_megabyte_line_does_not_crash() {
    { head -c 1048576 /dev/zero | tr '\0' 'a'; printf '\nhello\n'; } | chat --seed 1 >"$TMP/o12" 2>"$TMP/e12" &&
        [ "$(wc -l <"$TMP/o12")" -eq 2 ] && grep -q 'sees its last 4096' "$TMP/e12"
}
check test_a_megabyte_line_does_not_crash test_a_megabyte_line_does_not_crash

test_invalid_utf8_does_not_crash_and_output_has_no_control_bytes() {
    printf '\377\376 hi \300\200 \355\240\200 \033[31m\007 th\342\200\256ere\n/export %s/x.md\n' "$TMP" |
        chat --seed 1 >"$TMP/o13" 2>/dev/null || return 1
    [ "$(wc -l <"$TMP/o13")" -eq 1 ] && ! tr -d '\n' <"$TMP/o13" | LC_ALL=C grep -q '[[:cntrl:]]' &&
        ! tr -d '\n' <"$TMP/x.md" | LC_ALL=C grep -q '[[:cntrl:]]' &&
        grep -q 'th' "$TMP/x.md" && ! grep -q "$(printf '\342\200\256')" "$TMP/x.md" # no right-to-left override
}
check test_invalid_utf8_does_not_crash_and_output_has_no_control_bytes \
    test_invalid_utf8_does_not_crash_and_output_has_no_control_bytes

test_export_writes_markdown_with_ratings() {
    printf 'hello\n/good\n/export %s/t.md\n' "$TMP" | chat --seed 1 >/dev/null 2>&1 &&
        grep -q '^\*\*You:\*\* hello' "$TMP/t.md" && grep -q '^\*rating: good\*' "$TMP/t.md"
}
check test_export_writes_markdown_with_ratings test_export_writes_markdown_with_ratings

test_regenerate_and_prefer() {
    printf 'hello\n/regen\n/prefer b\n/show\n' | chat --seed 1 >"$TMP/o15" 2>"$TMP/e15" &&
        [ "$(wc -l <"$TMP/o15")" -eq 2 ] && grep -q 'preferred b' "$TMP/e15" && grep -q '^ratings *1 ' "$TMP/e15"
}
check test_regenerate_and_prefer test_regenerate_and_prefer

# A reply rated, then preferred over its alternative: undoing the preference leaves it rated.
test_undoing_a_preference_keeps_the_earlier_rating() {
    printf 'hello\n/good\n/regen\n/prefer b\n/undo\n/export %s/pref.md\n' "$TMP" | chat --seed 1 >/dev/null 2>&1 &&
        [ "$(grep -c '^\*rating: ' "$TMP/pref.md")" -eq 1 ] && grep -q '^\*rating: good\*' "$TMP/pref.md"
}
check test_undoing_a_preference_keeps_the_earlier_rating test_undoing_a_preference_keeps_the_earlier_rating

test_set_changes_a_setting_and_rejects_nonsense() {
    printf '/set temp 0\n/set top_p 7\n/set nope 1\n/show\n' | chat >/dev/null 2>"$TMP/e16" &&
        grep -q '^temp  *0$' "$TMP/e16" && grep -q 'top_p wants' "$TMP/e16" && grep -q "unknown setting 'nope'" "$TMP/e16"
}
check test_set_changes_a_setting_and_rejects_nonsense test_set_changes_a_setting_and_rejects_nonsense

test_rating_before_any_reply_is_an_error_not_a_crash() {
    printf '/good\n/undo\n/prefer a\n/rate 9\n/nope\n' | chat >/dev/null 2>"$TMP/e17" &&
        [ "$(grep -c '^error: ' "$TMP/e17")" -eq 5 ]
}
check test_rating_before_any_reply_is_an_error_not_a_crash test_rating_before_any_reply_is_an_error_not_a_crash

test_words_left_over_are_an_error_and_export_takes_the_whole_path() {
    printf 'hello\n/save a b\n/set temp 1 junk\n/export %s/my notes.md\n/show\n' "$TMP" |
        chat >/dev/null 2>"$TMP/e17b" &&
        grep -q "unexpected 'b' (usage: /save \[NAME\])" "$TMP/e17b" && grep -q "unexpected 'junk'" "$TMP/e17b" &&
        grep -q '^temp  *0\.8' "$TMP/e17b" && [ -s "$TMP/my notes.md" ] && [ ! -e "$PROFILES/a.profile" ]
}
check test_words_left_over_are_an_error_and_export_takes_the_whole_path \
    test_words_left_over_are_an_error_and_export_takes_the_whole_path

# A command that takes nothing refuses words after it: "/undo 3" undid one update, and
# "/clear!" cleared.
test_a_command_that_takes_nothing_refuses_words_after_it() {
    printf 'hello\n/good\n/undo 3\n/clear!\n/show\n' | chat --seed 2 >/dev/null 2>"$TMP/e17c" &&
        grep -q "unexpected '3' (usage: /undo)" "$TMP/e17c" && grep -q "unexpected '!' (usage: /clear)" "$TMP/e17c" &&
        [ "$(awk '/^ratings/ { print $2 }' "$TMP/e17c")" = 1 ]
}
check test_a_command_that_takes_nothing_refuses_words_after_it test_a_command_that_takes_nothing_refuses_words_after_it

test_help_and_models_list_things() {
    printf '/help\n/models\n' | chat 2>&1 >/dev/null | grep -q '/export FILE' &&
        printf '/models\n' | chat 2>&1 >/dev/null | grep -q '^  p1 ' &&
        mkdir -p "$PROFILES/folder.profile" && ! printf '/models\n' | chat 2>&1 >/dev/null | grep -q 'folder'
}
check test_help_and_models_list_things test_help_and_models_list_things

test_autosave_saves_on_quit() {
    printf 'hello\n/good\n' | chat --seed 1 --profile auto --autosave >/dev/null 2>&1 &&
        printf '/show\n' | chat --profile auto 2>&1 >/dev/null | grep -q '^ratings *1 '
}
check test_autosave_saves_on_quit test_autosave_saves_on_quit

# SIGTERM or SIGINT (Ctrl-C) while plain mode waits for a line: it stops reading and
# autosaves, exit 128 + the signal.
plain_signal_autosaves() { # plain_signal_autosaves SIGNAL STATUS PROFILE
    rm -f "$TMP/in" && mkfifo "$TMP/in" || return 1
    $BIN --model "$TMP/tiny.model" --assets "$TMP/assets" --plain --seed 1 --profile "$3" --autosave \
        <"$TMP/in" >/dev/null 2>"$TMP/e25" &
    pid=$!
    exec 9>"$TMP/in"
    printf 'hello\n/good\n' >&9
    i=0
    while [ $i -lt 100 ] && ! grep -q '^good: ' "$TMP/e25"; do sleep 0.1; i=$((i + 1)); done
    kill -"$1" $pid
    wait $pid
    rc=$?
    exec 9>&-
    [ $rc -eq "$2" ] && printf '/show\n' | chat --profile "$3" 2>&1 >/dev/null | grep -q '^ratings *1 '
}
test_plain_mode_autosaves_on_sigterm() { plain_signal_autosaves TERM 143 sigterm; }
check test_plain_mode_autosaves_on_sigterm test_plain_mode_autosaves_on_sigterm
test_plain_mode_autosaves_on_sigint() { plain_signal_autosaves INT 130 sigint; }
check test_plain_mode_autosaves_on_sigint test_plain_mode_autosaves_on_sigint

test_bad_profile_name_is_a_usage_error() {
    printf 'hello\n' | chat --profile ../x >/dev/null 2>&1
    [ $? -eq 2 ]
}
check test_bad_profile_name_is_a_usage_error test_bad_profile_name_is_a_usage_error

test_no_profile_folder_is_an_error_and_a_negative_seed_a_usage_error() {
    printf 'hello\n' | env -u HOME -u XDG_DATA_HOME $BIN --model "$TMP/tiny.model" --assets "$TMP/assets" --plain \
        --profile x >/dev/null 2>"$TMP/e19b"
    [ $? -eq 1 ] && grep -q 'nowhere to keep profiles' "$TMP/e19b" || return 1
    printf 'hello\n' | chat --seed -1 >/dev/null 2>&1
    [ $? -eq 2 ]
}
check test_no_profile_folder_is_an_error_and_a_negative_seed_a_usage_error \
    test_no_profile_folder_is_an_error_and_a_negative_seed_a_usage_error

test_missing_model_is_reported() {
    printf 'hello\n' | $BIN --model "$TMP/none.model" --assets "$TMP/assets" --plain 2>"$TMP/e20" >/dev/null
    [ $? -eq 1 ] && grep -q 'none.model' "$TMP/e20"
}
check test_missing_model_is_reported test_missing_model_is_reported

test_assets_folder_holds_the_default_model() {
    mkdir -p "$TMP/a2" && cp "$TMP/tiny.model" "$TMP/a2/rlchat.model" && cp "$TMP/assets/blocklist.txt" "$TMP/a2/" &&
        bin="$PWD/$BIN" && (cd "$TMP" && printf 'hello\n' | "$bin" --assets "$TMP/a2" --plain --seed 1 >"$TMP/o26" 2>&1) &&
        [ "$(wc -l <"$TMP/o26")" -eq 1 ]
}
check test_assets_folder_holds_the_default_model test_assets_folder_holds_the_default_model

# `rlchat simulate` end to end on the fixture: every measure is printed, for each rater, and
# --verbose shows every exchange, the reward model's guesses and the checks.
test_simulate_prints_every_measure() {
    printf 'hello\nhow are you\ntell me a joke\n# held-out\nwhat is your name?\ndo you like music?\n' >"$TMP/prompts.txt"
    $BIN simulate --model "$TMP/tiny.model" --assets "$TMP/assets" --prompts "$TMP/prompts.txt" \
        --valid "$TMP/corpus.txt" --rater question,topic:music --algo full --ratings 10 --seeds 2 --best-of 3 \
        --eval-every 5 --verbose >"$TMP/sim.out" 2>"$TMP/sim.err" || { cat "$TMP/sim.err"; return 1; }
    # --verbose: 10 exchanges a run, those rated with the reward model's guess, and the checks
    [ "$(grep -cE '^ +[0-9]+ [+-] ' "$TMP/sim.err")" -eq 40 ] &&
        grep -qE '^ +[0-9]+ [+-] guess [+-][0-9.]+ trust [0-9.]+ \| ' "$TMP/sim.err" &&
        grep -qE '^  check at 5: held-out rate [0-9.]+, target [0-9.]+$' "$TMP/sim.err" ||
        { echo "--verbose misses exchanges, guesses or checks"; head -20 "$TMP/sim.err"; return 1; }
    for rater in question topic:music; do
        for m in p0 final ratings_to_target ratings_to_target_in_bounds bpb_drift distinct2_ratio \
            update_ms_p50 update_ms_p95 reply_ms_p50 reply_ms_p95 nonfinite rollbacks; do
            grep -q "^sim_${rater}_full_${m} " "$TMP/sim.out" || { echo "no sim_${rater}_full_${m}"; return 1; }
        done
    done
    [ "$(grep -c '^run .* reach_in_bounds=' "$TMP/sim.out")" -eq 4 ] &&
        grep -q '^sim_shown_replies_failing_filter 0 count' "$TMP/sim.out" &&
        awk '/^run/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                      if (v["reach_in_bounds"] != -1 && (v["reach"] == -1 || v["reach_in_bounds"] < v["reach"])) bad = 1 }
             END { exit bad }' "$TMP/sim.out" # reaching within the bounds never comes before reaching
}
check test_simulate_prints_every_measure test_simulate_prints_every_measure

# Two ratings: a 95th percentile is the larger time, never under the median (their mean).
test_simulate_percentiles_of_a_few_times_are_ordered() {
    $BIN simulate --model "$TMP/tiny.model" --assets "$TMP/assets" --prompts "$TMP/prompts.txt" \
        --valid "$TMP/corpus.txt" --rater question --algo full --ratings 2 --seeds 1 --eval-every 2 \
        >"$TMP/sim2.out" 2>/dev/null &&
        awk '/^run/ { n++; for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                      if (v["p95"] + 0 < v["update_ms_p50"] + 0) bad = 1
                      if (v["reply_ms_p95"] + 0 < v["reply_ms_p50"] + 0) bad = 1 }
             END { exit bad || n != 1 }' "$TMP/sim2.out"
}
check test_simulate_percentiles_of_a_few_times_are_ordered test_simulate_percentiles_of_a_few_times_are_ordered

# `rlchat simulate` on the fixture, its times left out (they differ from run to run).
simulate_untimed() {
    $BIN simulate --model "$TMP/tiny.model" --assets "$TMP/assets" --prompts "$TMP/prompts.txt" \
        --valid "$TMP/corpus.txt" --rater question --algo full --ratings 4 --seeds 1 --eval-every 2 --samples 1 \
        "$@" 2>/dev/null | sed -e 's/ update_ms_p50=[^ ]* p95=[^ ]* reply_ms_p50=[^ ]* reply_ms_p95=[^ ]*//' -e '/_ms_p/d'
}

# --set takes the chat's /set names and ranges; the older spellings set the same thing.
test_simulate_set_takes_the_settings_of_the_chat() {
    simulate_untimed >"$TMP/sim-default.out" &&
        simulate_untimed --set best_of=2 --set temp=0.3 >"$TMP/sim-set.out" &&
        simulate_untimed --best-of 2 --set temp=0.3 >"$TMP/sim-alias.out" || return 1
    cmp -s "$TMP/sim-set.out" "$TMP/sim-alias.out" && ! cmp -s "$TMP/sim-set.out" "$TMP/sim-default.out" ||
        { echo "--set best_of=2 and --best-of 2 differ, or change nothing"; return 1; }
    $BIN simulate --model "$TMP/tiny.model" --set nope=1 2>"$TMP/e-set1" >/dev/null
    [ $? -eq 2 ] && grep -q "unknown setting 'nope'" "$TMP/e-set1" || return 1
    $BIN simulate --model "$TMP/tiny.model" --set top_p=7 2>"$TMP/e-set2" >/dev/null
    [ $? -eq 2 ] && grep -q "top_p wants a number between 0.01 and 1, not '7'" "$TMP/e-set2" || return 1
    $BIN simulate --model "$TMP/tiny.model" --set temp 2>"$TMP/e-set3" >/dev/null
    [ $? -eq 2 ] && grep -q "set wants KEY=VALUE" "$TMP/e-set3"
}
check test_simulate_set_takes_the_settings_of_the_chat test_simulate_set_takes_the_settings_of_the_chat

# --ceiling on the fixture: each rater's pool and base rate; the tilted policy's distinct-2
# at the target for the raters the pools let reach it (at least one of these three), the
# tilt rising with the rate; a rater that likes nothing cannot reach it. The reward model's
# choices after 5, 10 and 20 ratings: rates and shares in [0, 1], 0 for that rater.
test_simulate_ceiling_reports_the_tilted_policy() {
    $BIN simulate --model "$TMP/tiny.model" --assets "$TMP/assets" --prompts "$TMP/prompts.txt" \
        --valid "$TMP/corpus.txt" --rater topic:i,topic:you,question,topic:zzzz --ceiling 10 \
        >"$TMP/ceil.out" 2>"$TMP/ceil.err" || { cat "$TMP/ceil.err"; return 1; }
    for rater in topic:i topic:you question topic:zzzz; do
        grep -q "^ceiling_${rater}_pool 20 replies" "$TMP/ceil.out" &&
            grep -q "^ceiling_${rater}_p0 " "$TMP/ceil.out" || { echo "no pool or p0 for $rater"; return 1; }
        awk -v r="ceiling_${rater}_at_0" 'index($1, r) == 1 && $1 ~ /_tilt$/ { if ($2 <= last) bad = 1; last = $2 }
            END { exit bad }' "$TMP/ceil.out" || { echo "tilts of $rater do not rise with the rate"; return 1; }
        for n in 5 10 20; do
            awk -v r="fewshot_${rater}_after_${n}_" -v none="$([ $rater = topic:zzzz ] && echo 1)" \
                'index($1, r) == 1 { n++; if ($2 < 0 || $2 > 1 || (none && $2 != 0)) bad = 1 }
                 END { exit bad || n != 3 }' "$TMP/ceil.out" || { echo "no choices after $n for $rater"; return 1; }
        done
    done
    grep -q '^ceiling_topic:zzzz_at_target_reachable 0 flag' "$TMP/ceil.out" &&
        awk '$1 ~ /_at_target_distinct2_ratio$/ && $2 > 0 && $2 < 3 { n++ } END { exit n < 1 }' "$TMP/ceil.out"
}
check test_simulate_ceiling_reports_the_tilted_policy test_simulate_ceiling_reports_the_tilted_policy

test_simulate_rejects_an_unknown_rater() {
    $BIN simulate --model "$TMP/tiny.model" --rater loud >/dev/null 2>"$TMP/sim2.err"
    [ $? -eq 2 ] && grep -q "unknown rater 'loud'" "$TMP/sim2.err"
}
check test_simulate_rejects_an_unknown_rater test_simulate_rejects_an_unknown_rater

test_man_page_is_clean_and_documents_every_chat_option() {
    if command -v mandoc >/dev/null 2>&1; then
        [ -z "$(mandoc -Tlint man/rlchat.1 2>&1)" ] || return 1
    fi
    for opt in $($BIN chat --help | sed -n 's/^  \(--[a-z-]*\).*/\1/p'); do
        grep -qF -- "$(printf '%s' "$opt" | sed 's/-/\\-/g')" man/rlchat.1 || { echo "man page lacks $opt"; return 1; }
    done
    for cmd in $(commands); do
        grep -qxF ".B $(printf '%s' "$cmd" | sed 's/-/\\-/g')" man/rlchat.1 || { echo "man page lacks $cmd"; return 1; }
    done
}
check test_man_page_is_clean_and_documents_every_chat_option test_man_page_is_clean_and_documents_every_chat_option

test_readme_names_every_command_where_it_says_how_to_use_rlchat() {
    sed -n '/^## Using it/,/^## /p' README.md >"$TMP/using.md"
    [ "$(commands | wc -l)" -ge 8 ] || return 1
    for cmd in $(commands); do
        [ "$cmd" = chat ] || grep -qF "\`rlchat $cmd\`" "$TMP/using.md" || { echo "README's Using it lacks $cmd"; return 1; }
    done
}
check test_readme_names_every_command_where_it_says_how_to_use_rlchat \
    test_readme_names_every_command_where_it_says_how_to_use_rlchat

# ---- the commands' inputs and outputs ----

test_a_folder_or_fifo_given_as_a_file_is_refused_at_once() {
    mkdir -p "$TMP/adir" && rm -f "$TMP/afifo" && mkfifo "$TMP/afifo" || return 1
    timeout 20 $BIN sample --model "$TMP/adir" --prompt hi 2>"$TMP/e20a"
    [ $? -eq 1 ] && grep -q 'folder' "$TMP/e20a" || return 1
    timeout 20 $BIN eval --model "$TMP/tiny.model" --corpus "$TMP/afifo" 2>"$TMP/e20b"
    [ $? -eq 1 ] && grep -q 'not a regular file' "$TMP/e20b" || return 1
    timeout 20 $BIN filter --assets "$TMP/assets" "$TMP/adir" 2>"$TMP/e20c"
    [ $? -eq 1 ] && grep -q 'folder' "$TMP/e20c"
}
check test_a_folder_or_fifo_given_as_a_file_is_refused_at_once test_a_folder_or_fifo_given_as_a_file_is_refused_at_once

test_an_output_that_would_overwrite_an_input_is_refused() {
    cp "$TMP/corpus.txt" "$TMP/corpus.keep"
    $BIN tokenize --corpus "$TMP/corpus.txt" --model "$TMP/tiny.model" --out "$TMP/corpus.txt" 2>"$TMP/e21" >/dev/null
    [ $? -eq 2 ] && grep -q 'overwrite' "$TMP/e21" && cmp -s "$TMP/corpus.txt" "$TMP/corpus.keep" || return 1
    $BIN train --corpus "$TMP/corpus.txt" --out "$TMP/corpus.txt" --epochs 1 2>"$TMP/e21b" >/dev/null
    [ $? -eq 2 ] && grep -q 'overwrite' "$TMP/e21b" && cmp -s "$TMP/corpus.txt" "$TMP/corpus.keep"
}
check test_an_output_that_would_overwrite_an_input_is_refused test_an_output_that_would_overwrite_an_input_is_refused

# SIGTERM in the middle of tokenizing 40 MB: a message, and neither the output nor its temp.
test_an_interrupted_tokenize_leaves_no_file() {
    awk 'BEGIN { for (i = 0; i < 1000000; i++) print "hello there how are you today\nfine thanks and you\n" }' \
        >"$TMP/big.txt"
    $BIN tokenize --corpus "$TMP/big.txt" --model "$TMP/tiny.model" --out "$TMP/big.tok" --chunk-kb 64 \
        >/dev/null 2>"$TMP/e21c" &
    pid=$!
    sleep 0.3
    kill -TERM $pid
    wait $pid
    rc=$?
    rm -f "$TMP/big.txt"
    [ $rc -eq 1 ] && grep -q 'interrupted; .*big.tok was not written' "$TMP/e21c" &&
        [ -z "$(ls "$TMP" | grep '^big\.tok')" ]
}
check test_an_interrupted_tokenize_leaves_no_file test_an_interrupted_tokenize_leaves_no_file

test_a_number_option_refuses_nan_and_infinity() {
    $BIN sample --model "$TMP/tiny.model" --prompt hi --temp nan 2>"$TMP/e22" >/dev/null
    [ $? -eq 2 ] && grep -q "finite number, not 'nan'" "$TMP/e22" || return 1
    $BIN train --corpus "$TMP/corpus.txt" --out "$TMP/x.model" --lr inf 2>/dev/null >/dev/null
    [ $? -eq 2 ] && [ ! -e "$TMP/x.model" ]
}
check test_a_number_option_refuses_nan_and_infinity test_a_number_option_refuses_nan_and_infinity

test_training_options_out_of_range_are_refused_before_anything_is_written() {
    $BIN train --corpus "$TMP/corpus.txt" --out "$TMP/w.model" --clip -1 2>/dev/null >/dev/null
    [ $? -eq 2 ] && [ ! -e "$TMP/w.model" ] || return 1
    $BIN safety-train --assets "$TMP/assets" --out "$TMP/tox.bin" --lr -1 2>"$TMP/e22e" >/dev/null
    [ $? -eq 2 ] && [ ! -e "$TMP/tox.bin" ] && grep -q -- '--lr and --neg-weight positive' "$TMP/e22e"
}
check test_training_options_out_of_range_are_refused_before_anything_is_written \
    test_training_options_out_of_range_are_refused_before_anything_is_written

# A shape the model cannot have is refused at once (usage, 2), not after the tokenizer's
# training (its "tokenizer: N tokens learned" line), which takes minutes on a real corpus.
test_a_bad_model_shape_is_refused_before_any_work() {
    for shape in '--layers 0' '--layers 5' '--hidden 0' '--embed 9000' '--embed 16 --hidden 32 --tied'; do
        $BIN train --corpus "$TMP/corpus.txt" --out "$TMP/s.model" --vocab 300 $shape 2>"$TMP/e22f" >/dev/null
        [ $? -eq 2 ] && ! grep -q '^tokenizer' "$TMP/e22f" && grep -qE 'must be 1 to|--tied needs' "$TMP/e22f" &&
            [ ! -e "$TMP/s.model" ] || { echo "$shape:"; cat "$TMP/e22f"; return 1; }
    done
}
check test_a_bad_model_shape_is_refused_before_any_work test_a_bad_model_shape_is_refused_before_any_work

# --resume goes on with the checkpoint's model: a shape option that differs from it is
# refused (2), naming both shapes, not ignored; options that agree with it, or none, resume.
resume() { # resume SHAPE-OPTIONS...: the fixture's checkpoint, copied, resumed to r.model
    cp "$TMP/tiny.model.ckpt" "$TMP/r.model.ckpt" && rm -f "$TMP/r.model" &&
        $BIN train --corpus "$TMP/corpus.txt" --out "$TMP/r.model" --batch 2 --seq 16 --resume "$@" \
            >/dev/null 2>"$TMP/e22g"
}
test_resuming_with_another_shape_is_refused() {
    resume --hidden 64 --layers 2
    [ $? -eq 2 ] && [ ! -e "$TMP/r.model" ] &&
        grep -q -- 'holds a model of --embed 16 --hidden 32 --layers 1, not the --embed 16 --hidden 64 --layers 2' \
            "$TMP/e22g" || { cat "$TMP/e22g"; return 1; }
    resume --tied
    [ $? -eq 2 ] && grep -q -- '--layers 1 --tied asked for' "$TMP/e22g" || return 1
    resume --embed 16 --hidden 32 --layers 1 && [ -s "$TMP/r.model" ] && resume && [ -s "$TMP/r.model" ]
}
check test_resuming_with_another_shape_is_refused test_resuming_with_another_shape_is_refused

# A file-size limit (200 blocks: 100 or 200 KB by shell) lets the 84 KB model be written
# but not its checkpoint, three times larger with Adam's moments: the model is still saved.
test_training_saves_the_model_when_its_checkpoint_does_not_fit() {
    (ulimit -f 200 && $BIN train --corpus "$TMP/corpus.txt" --out "$TMP/fit.model" --vocab 300 --embed 16 \
        --hidden 32 --layers 1 --batch 2 --seq 16 --epochs 1 >/dev/null 2>"$TMP/e24")
    [ $? -eq 1 ] && grep -q 'fit.model.ckpt: save failed' "$TMP/e24" && [ -s "$TMP/fit.model" ] &&
        [ -z "$(ls "$TMP" | grep 'fit.*\.tmp\.')" ]
}
check test_training_saves_the_model_when_its_checkpoint_does_not_fit \
    test_training_saves_the_model_when_its_checkpoint_does_not_fit

test_sampling_options_are_held_to_the_ranges_set_accepts() {
    $BIN sample --model "$TMP/tiny.model" --prompt hi --top-p 0 2>"$TMP/e22b" >/dev/null
    [ $? -eq 2 ] && grep -q 'top_p wants a number between 0.01 and 1, not 0' "$TMP/e22b" || return 1
    printf 'hello\n' | chat --temp -1 2>"$TMP/e22c" >/dev/null
    [ $? -eq 2 ] && grep -q 'temp wants a number between 0 and 5, not -1' "$TMP/e22c" || return 1
    $BIN simulate --model "$TMP/tiny.model" --rater , 2>"$TMP/e22d" >/dev/null
    [ $? -eq 2 ] && grep -q 'names no rater' "$TMP/e22d" || return 1
    $BIN simulate --model "$TMP/tiny.model" --best-of-by-policy 0 2>"$TMP/e22e" >/dev/null
    [ $? -eq 2 ] && grep -q 'best_of_by_policy wants a whole number between 1 and 9' "$TMP/e22e"
}
check test_sampling_options_are_held_to_the_ranges_set_accepts test_sampling_options_are_held_to_the_ranges_set_accepts

test_a_missing_validation_corpus_is_found_before_training() {
    $BIN train --corpus "$TMP/corpus.txt" --valid "$TMP/no-such.txt" --out "$TMP/y.model" --epochs 1 \
        2>"$TMP/e23" >/dev/null
    [ $? -eq 1 ] && grep -q 'no-such.txt: cannot read' "$TMP/e23" && [ ! -e "$TMP/y.model" ]
}
check test_a_missing_validation_corpus_is_found_before_training \
    test_a_missing_validation_corpus_is_found_before_training

# ---- the screen, under tmux ----

if ! command -v tmux >/dev/null 2>&1; then
    echo "skipping the terminal tests: tmux is not installed"
    finish
fi

T() { tmux -L "$SOCK" -f /dev/null "$@"; }
screen() { T capture-pane -t "$1" -p; }
wait_for() { # wait_for SESSION PATTERN: up to 30 s for the pane to show it
    i=0
    while [ $i -lt 300 ]; do
        screen "$1" 2>/dev/null | grep -q -- "$2" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    echo "--- the pane did not show '$2':"
    screen "$1" 2>/dev/null
    return 1
}
wait_gone() { # wait_gone SESSION PATTERN
    i=0
    while [ $i -lt 100 ]; do
        screen "$1" 2>/dev/null | grep -q -- "$2" || return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
wait_file() { # wait_file FILE: up to 30 s for it to hold something
    i=0
    while [ $i -lt 300 ]; do
        [ -s "$1" ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
launch() { # launch SESSION ARGS...: rlchat ARGS in an 80x24 terminal; its exit status goes to $TMP/SESSION.exit
    session=$1
    shift
    T new-session -d -s "$session" -x 80 -y 24 \
        "TERM=screen-256color XDG_DATA_HOME='$XDG_DATA_HOME' $BIN $*; echo \$? >'$TMP/$session.exit'; sleep 60"
}
start() { launch "$1" --model "'$TMP/tiny.model'" --assets "'$TMP/assets'" --seed 5; } # start SESSION: on the fixture

start s1
test_screen_starts() { wait_for s1 '? help'; }
check test_screen_starts test_screen_starts

test_screen_shows_a_reply() {
    T send-keys -t s1 'hello there' Enter
    wait_for s1 '^you   hello there' && wait_for s1 '^bot ' && wait_for s1 '+ good  - bad'
}
check test_screen_shows_a_reply test_screen_shows_a_reply

test_plus_rates_and_the_status_bar_changes() {
    screen s1 | grep -q '0 rated' || return 1
    T send-keys -t s1 '+'
    wait_for s1 '1 rated' && wait_for s1 'R +' && wait_for s1 'good: R' && wait_for s1 'update [0-9.]* ms'
}
check test_plus_rates_and_the_status_bar_changes test_plus_rates_and_the_status_bar_changes

test_help_opens_and_a_key_closes_it() {
    T send-keys -t s1 '?'
    wait_for s1 'rlchat: keys' || return 1
    T send-keys -t s1 'x'
    wait_gone s1 'rlchat: keys' && ! screen s1 | grep -q '^> x'
}
check test_help_opens_and_a_key_closes_it test_help_opens_and_a_key_closes_it

test_resize_down_to_40x10_and_smaller() {
    T resize-window -t s1 -x 40 -y 10
    wait_for s1 '1 rated' || return 1
    T resize-window -t s1 -x 30 -y 8
    wait_for s1 'too small' || return 1
    T resize-window -t s1 -x 80 -y 24
    wait_for s1 '1 rated' && [ ! -s "$TMP/s1.exit" ]
}
check test_resize_down_to_40x10_and_smaller test_resize_down_to_40x10_and_smaller

test_quit_asks_to_save_and_restores_the_terminal() {
    T send-keys -t s1 '/quit' Enter
    wait_for s1 'unsaved updates to profile' || return 1
    T send-keys -t s1 'n'
    wait_file "$TMP/s1.exit" && [ "$(cat "$TMP/s1.exit")" = 0 ] &&
        [ "$(T display-message -p -t s1 '#{alternate_on}')" = 0 ] && wait_for s1 'unsaved updates were not saved'
}
check test_quit_asks_to_save_and_restores_the_terminal test_quit_asks_to_save_and_restores_the_terminal

start s2
test_ctrl_c_twice_quits() {
    wait_for s2 '? help' || return 1
    T send-keys -t s2 C-c
    wait_for s2 'Ctrl-C again' || return 1
    T send-keys -t s2 C-c
    wait_file "$TMP/s2.exit" && [ "$(cat "$TMP/s2.exit")" = 0 ] &&
        [ "$(T display-message -p -t s2 '#{alternate_on}')" = 0 ]
}
check test_ctrl_c_twice_quits test_ctrl_c_twice_quits

test_ctrl_d_and_yes_saves_the_profile() {
    launch s4 --model "'$TMP/tiny.model'" --assets "'$TMP/assets'" --profile scr
    wait_for s4 '0 rated' || return 1
    T send-keys -t s4 'hello' Enter
    wait_for s4 '+ good' || return 1
    T send-keys -t s4 '3'
    wait_for s4 '1 rated' || return 1
    T send-keys -t s4 C-d
    wait_for s4 'unsaved updates to profile scr' || return 1
    T send-keys -t s4 'y'
    wait_file "$TMP/s4.exit" && [ "$(cat "$TMP/s4.exit")" = 0 ] &&
        printf '/show\n' | chat --profile scr 2>&1 >/dev/null | grep -q '^ratings *1 ' &&
        [ "$(cut -f4 "$PROFILES/scr.feedback.log")" = "3/5" ] && [ -s "$PROFILES/history" ]
}
check test_ctrl_d_and_yes_saves_the_profile test_ctrl_d_and_yes_saves_the_profile

# A paste of lines beginning with - is text, not a rating; its lines are sent, in order,
# the command between them too.
test_a_pasted_dash_does_not_rate_and_pasted_lines_queue() {
    start s5
    wait_for s5 '? help' || return 1
    T send-keys -t s5 'hello' Enter
    wait_for s5 '+ good' || return 1
    printf -- '- first point\n/set temp 0.5\n- second point\n' >"$TMP/paste.txt"
    T load-buffer "$TMP/paste.txt" && T paste-buffer -t s5
    wait_for s5 '^you   - first point' && wait_for s5 '^you   - second point' && wait_for s5 '0 rated' &&
        wait_for s5 'temp = 0.5' && wait_gone s5 'thinking' && ! screen s5 | grep -q 'bad: R'
}
check test_a_pasted_dash_does_not_rate_and_pasted_lines_queue test_a_pasted_dash_does_not_rate_and_pasted_lines_queue

# Ctrl-C in the save question keeps chatting; only n discards.
test_ctrl_c_in_the_save_question_keeps_chatting() {
    T send-keys -t s5 '+'
    wait_for s5 '1 rated' || return 1
    T send-keys -t s5 C-d
    wait_for s5 'unsaved updates to profile' || return 1
    T send-keys -t s5 C-c
    wait_gone s5 'unsaved updates to profile' && [ ! -s "$TMP/s5.exit" ] || return 1
    T send-keys -t s5 C-d
    wait_for s5 'unsaved updates to profile' || return 1
    T resize-window -t s5 -x 40 -y 10 # narrow: the question shortens, its keys in sight
    wait_for s5 'save 1 to default.*? y/n/Esc' || return 1
    T send-keys -t s5 'n'
    wait_file "$TMP/s5.exit" && [ "$(cat "$TMP/s5.exit")" = 0 ]
}
check test_ctrl_c_in_the_save_question_keeps_chatting test_ctrl_c_in_the_save_question_keeps_chatting

# After an undo, of a rating or of an a/b choice, u goes on undoing the update before, then
# says there is nothing left; it never starts a message with 'u'.
test_u_after_undoing_a_preference_undoes_the_rating_before_it() {
    start s7
    wait_for s7 '? help' || return 1
    T send-keys -t s7 'hello' Enter
    wait_for s7 '+ good' || return 1
    T send-keys -t s7 '+'
    wait_for s7 '1 rated' || return 1
    T send-keys -t s7 'how are you' Enter
    wait_for s7 '^you   how are you' && wait_for s7 '+ good' || return 1
    T send-keys -t s7 'r'
    wait_for s7 'a or b keeps' || return 1
    T send-keys -t s7 'b'
    wait_for s7 '2 rated' || return 1
    T send-keys -t s7 'u'
    wait_for s7 '1 rated' && wait_for s7 'u undoes one more' || return 1
    T send-keys -t s7 'u'
    wait_for s7 '0 rated' && wait_gone s7 'u undoes one more' || return 1 # nothing is left to undo
    T send-keys -t s7 'u'
    wait_for s7 'nothing to undo' && ! screen s7 | grep -q '^> *u' || return 1
    T send-keys -t s7 C-d # quit now: left running, it would write its history while cleanup removes the folder
    wait_for s7 'unsaved updates to profile' || return 1
    T send-keys -t s7 'n'
    wait_file "$TMP/s7.exit"
}
check test_u_after_undoing_a_preference_undoes_the_rating_before_it \
    test_u_after_undoing_a_preference_undoes_the_rating_before_it

# Broken UTF-8 typed in a UTF-8 locale: each broken character shows as U+FFFD where it was
# typed, and the characters around it stay whole and in order. Readline, given the bytes
# as they came, swallowed a lead byte cut short ("x", C3, "ab" became "xab").
test_broken_utf8_typed_shows_as_replacement_characters_in_place() {
    T new-session -d -s s8 -x 80 -y 24 "LANG=C.UTF-8 TERM=screen-256color XDG_DATA_HOME='$XDG_DATA_HOME' \
        $BIN --model '$TMP/tiny.model' --assets '$TMP/assets' --seed 5; echo \$? >'$TMP/s8.exit'; sleep 60"
    wait_for s8 '? help' || return 1
    T send-keys -t s8 'x' && T send-keys -t s8 -H c3 && T send-keys -t s8 'ab' && T send-keys -t s8 -H ff &&
        T send-keys -t s8 'cd' && T send-keys -t s8 -H c3 a9 e2 82 ac ed a0 80 && T send-keys -t s8 'e' Enter
    wait_for s8 "^you   x$(printf '\357\277\275')ab$(printf '\357\277\275')cd$(printf '\303\251\342\202\254\357\277\275')e\$" ||
        return 1
    T send-keys -t s8 C-d
    wait_file "$TMP/s8.exit"
}
check test_broken_utf8_typed_shows_as_replacement_characters_in_place \
    test_broken_utf8_typed_shows_as_replacement_characters_in_place

# Ctrl-D right after a rating, with --autosave: the update still on the worker is saved.
# On the shipped model, whose update (tens of ms) is still running when the Ctrl-D comes.
test_quitting_during_a_rating_saves_it() {
    launch s6 --model assets/rlchat.model --profile fast --autosave
    wait_for s6 '0 rated' || return 1
    T send-keys -t s6 'hello' Enter
    wait_for s6 '+ good' || return 1
    T send-keys -t s6 '+'
    T send-keys -t s6 C-d
    wait_file "$TMP/s6.exit" && [ "$(cat "$TMP/s6.exit")" = 0 ] &&
        printf '/show\n' | $BIN --model assets/rlchat.model --plain --profile fast 2>&1 >/dev/null |
        grep -q '^ratings *1 '
}
check test_quitting_during_a_rating_saves_it test_quitting_during_a_rating_saves_it

start s3
test_sigterm_restores_the_terminal() {
    wait_for s3 '? help' || return 1
    pid=$(pgrep -P "$(T display-message -p -t s3 '#{pane_pid}')" rlchat)
    [ -n "$pid" ] || return 1
    kill -TERM "$pid"
    wait_file "$TMP/s3.exit" && [ "$(cat "$TMP/s3.exit")" = 143 ] &&
        [ "$(T display-message -p -t s3 '#{alternate_on}')" = 0 ]
}
if command -v pgrep >/dev/null 2>&1; then
    check test_sigterm_restores_the_terminal test_sigterm_restores_the_terminal
else
    echo "skipping test_sigterm_restores_the_terminal: no pgrep"
fi

finish
