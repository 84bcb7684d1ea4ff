/* ui: see ui.h. */
#include "app/ui.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "app/text.h"
#include "model/utf8.h"
#include "model/util.h"

#define PREFIX_W 6   /* "you   ", "bot   ", "bot a " */

enum { PAIR_USER = 1, PAIR_BOT, PAIR_ERROR, PAIR_SPARK, PAIR_HINT };

static struct {
    int active;     /* curses is running */
    int color;      /* colours are on (a terminal with colours and no NO_COLOR) */
    int utf8;       /* the locale is UTF-8: block characters for the sparkline */
    SCREEN *screen; /* from newterm */
} U;

/* ---- setup and teardown ---- */

int ui_init(void) {
    U.screen = newterm(NULL, stdout, stdin);
    if (!U.screen) {
        err_set("cannot set up the terminal (TERM=%s); try --plain", getenv("TERM") ? getenv("TERM") : "");
        return -1;
    }
    U.active = 1;
    fatal_hook = ui_done;
    U.utf8 = locale_is_utf8();
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    mousemask(BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);
    const char *nc = getenv("NO_COLOR");
    U.color = !(nc && *nc) && has_colors();
    if (U.color) {
        start_color();
        use_default_colors();
        init_pair(PAIR_USER, COLOR_CYAN, -1);
        init_pair(PAIR_BOT, COLOR_GREEN, -1);
        init_pair(PAIR_ERROR, COLOR_RED, -1);
        init_pair(PAIR_SPARK, COLOR_YELLOW, -1);
        init_pair(PAIR_HINT, COLOR_BLUE, -1);
    }
    return 0;
}

void ui_done(void) {
    if (!U.active) return;
    U.active = 0;
    mousemask(0, NULL);
    endwin();
    fflush(stdout);
}

void ui_fatal(const char *fmt, ...) {
    ui_done();
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rlchat: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

/* Colour when available, else the attribute that stands in for it (NO_COLOR: bold and
   reverse instead of colour). */
static attr_t style(int pair, attr_t fallback) { return U.color ? (attr_t)COLOR_PAIR(pair) : fallback; }

/* Draws at most width columns of sanitized text at the cursor. Returns the columns used. */
static int put(const char *s, size_t len, int width) {
    if (width <= 0) return 0;
    size_t n = text_fit(s, len, width);
    if (n) addnstr(s, (int)n);
    return text_width(s, n);
}

static int puts_w(const char *s, int width) { return put(s, strlen(s), width); }

/* ---- the transcript ---- */

typedef enum { LINE_TEXT, LINE_TAG, LINE_HINT } LineKind;

/* One row of the transcript. */
typedef struct {
    const Entry *e;   /* whose row */
    LineKind kind;    /* text of the entry, its rating alone, or the hint */
    size_t off, len;  /* the bytes of e->text (LINE_TEXT) */
    int first;        /* the entry's first row: draw its prefix */
    int tag;          /* draw the rating after the text */
} Row;

typedef struct {
    Row *rows;        /* collected bottom-up */
    int n, cap;
} Rows;

static void push_row(Rows *r, Row row) {
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->rows = xrealloc(r->rows, (size_t)r->cap * sizeof *r->rows);
    }
    r->rows[r->n++] = row;
}

static void tag_text(const Entry *e, char *out, size_t n) {
    if (e->rating[0]) snprintf(out, n, " [%s]", e->rating);
    else if (e->stopped) snprintf(out, n, " [stopped]");
    else out[0] = 0;
}

/* Adds an entry's rows bottom-up (last row first). */
static void entry_rows(Rows *r, const Entry *e, int width, const char *hint) {
    int indent = e->kind == ENTRY_NOTE ? 0 : PREFIX_W;
    int w = width - indent;
    size_t len = e->shown < e->len ? e->shown : e->len;
    int done = len == e->len;
    int need = text_wrap(e->text, len, w, NULL, 0);
    TextLine *lines = xmalloc((size_t)need * sizeof *lines);
    text_wrap(e->text, len, w, lines, need);
    char tag[32];
    tag_text(e, tag, sizeof tag);
    int tag_w = done && tag[0] ? text_width(tag, strlen(tag)) : 0;
    int tag_inline = tag_w && text_width(e->text + lines[need - 1].off, lines[need - 1].len) + tag_w <= w;
    if (hint && done) push_row(r, (Row){e, LINE_HINT, 0, 0, 0, 0});
    if (tag_w && !tag_inline) push_row(r, (Row){e, LINE_TAG, 0, 0, 0, 1});
    for (int i = need - 1; i >= 0; i--)
        push_row(r, (Row){e, LINE_TEXT, lines[i].off, lines[i].len, i == 0, i == need - 1 && tag_inline});
    free(lines);
}

static void draw_row(const Row *row, int y, int width, const char *hint) {
    const Entry *e = row->e;
    move(y, 0);
    if (row->kind == LINE_HINT) {
        move(y, PREFIX_W);
        attron(style(PAIR_HINT, A_DIM));
        puts_w(hint, width - PREFIX_W);
        attroff(style(PAIR_HINT, A_DIM));
        return;
    }
    if (e->kind != ENTRY_NOTE && row->first) {
        char prefix[8];
        if (e->kind == ENTRY_USER) snprintf(prefix, sizeof prefix, "you");
        else if (e->label) snprintf(prefix, sizeof prefix, "bot %c", e->label);
        else snprintf(prefix, sizeof prefix, "bot");
        attr_t a = (e->kind == ENTRY_USER ? style(PAIR_USER, 0) : style(PAIR_BOT, 0)) | A_BOLD;
        attron(a);
        puts_w(prefix, PREFIX_W);
        attroff(a);
    }
    int x = e->kind == ENTRY_NOTE ? 0 : PREFIX_W;
    move(y, x);
    int used = 0;
    if (row->kind == LINE_TEXT) {
        attr_t a = e->kind == ENTRY_NOTE ? A_DIM : e->blocked ? style(PAIR_ERROR, A_BOLD) : 0;
        attron(a);
        used = put(e->text + row->off, row->len, width - x);
        attroff(a);
    }
    if (row->tag) {
        char tag[32];
        tag_text(e, tag, sizeof tag);
        attron(A_DIM);
        puts_w(tag, width - x - used);
        attroff(A_DIM);
    }
}

/* Draws the transcript in rows [0, height), scrolled back *scroll rows (clamped). */
static void draw_transcript(const UiView *v, int height, int width) {
    const Chat *c = v->chat;
    Rows r = {0};
    int need = height + *v->scroll, exhausted = 1;
    int hinted = c->alt >= 0 ? c->alt : c->reply;
    for (int i = c->n_entries - 1; i >= 0; i--) {
        if (r.n >= need) {
            exhausted = 0;
            break;
        }
        entry_rows(&r, &c->entries[i], width, i == hinted ? v->hint : NULL);
    }
    if (exhausted) {
        int max = r.n > height ? r.n - height : 0;
        if (*v->scroll > max) *v->scroll = max;
    }
    int top = r.n < height ? r.n - 1 : *v->scroll + height - 1; /* bottom-up index of row 0 */
    for (int y = 0; y < height && top - y >= 0; y++) draw_row(&r.rows[top - y], y, width, v->hint);
    if (*v->scroll > 0 && height > 0) { /* say there is more below */
        char more[48];
        snprintf(more, sizeof more, " %d more lines below (PgDn) ", *v->scroll);
        int w = text_width(more, strlen(more));
        move(height - 1, width > w ? width - w : 0);
        attron(A_REVERSE);
        puts_w(more, width);
        attroff(A_REVERSE);
    }
    free(r.rows);
}

/* ---- status bar, message, input ---- */

static void sparkline(const Chat *c, char *out, size_t n) {
    static const char *blocks[] = {"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"};
    static const char ascii[] = "_.-=+*#@";
    size_t o = 0;
    out[0] = 0;
    for (int i = 0; i < c->n_rewards && o + 4 < n; i++) {
        float x = (c->rewards[i] + 2.0f) / 4.0f; /* R in [-2, 2] */
        int k = x <= 0 ? 0 : x >= 1 ? 7 : (int)(x * 8);
        if (k > 7) k = 7;
        if (U.utf8) o += (size_t)snprintf(out + o, n - o, "%s", blocks[k]);
        else out[o++] = ascii[k], out[o] = 0;
    }
}

/* The status bar: pieces in order of importance; one that does not fit is left out. */
static void draw_status(const UiView *v, int y, int width) {
    const Chat *c = v->chat;
    const char *sep = U.utf8 ? " \u2502 " : " | ";
    char piece[6][96], spark[SPARK_N * 4 + 1];
    int n = 0;
    char title[64];
    size_t tn = text_fit(v->title, strlen(v->title), width / 3 > 12 ? width / 3 : 12);
    snprintf(title, sizeof title, " %.*s", (int)tn, v->title);
    snprintf(piece[n++], sizeof piece[0], "%d rated", c->ratings);
    if (c->n_rewards) snprintf(piece[n++], sizeof piece[0], "R %+.2f ", c->rewards[c->n_rewards - 1]);
    if (c->has_update) snprintf(piece[n++], sizeof piece[0], "update %.1f ms", c->update_ms);
    if (c->has_kl) snprintf(piece[n++], sizeof piece[0], "KL %.2g", c->kl);
    if (c->unsaved) snprintf(piece[n++], sizeof piece[0], "unsaved");
    sparkline(c, spark, sizeof spark);
    int spark_w = text_width(spark, strlen(spark));
    char busy[64] = "";
    if (v->busy) {
        static const char *spin_u[] = {"\u280b", "\u2819", "\u2839", "\u2838", "\u283c", "\u2834", "\u2826", "\u2827"};
        static const char spin_a[] = "|/-\\";
        if (U.utf8) snprintf(busy, sizeof busy, " %s thinking ", spin_u[v->spinner % 8]);
        else snprintf(busy, sizeof busy, " %c thinking ", spin_a[v->spinner % 4]);
    }
    int busy_w = text_width(busy, strlen(busy));
    int sep_w = text_width(sep, strlen(sep));
    move(y, 0);
    attron(A_REVERSE);
    for (int x = 0; x < width; x++) addch(' ');
    move(y, 0);
    int room = width - busy_w;
    int used = puts_w(title, room);
    for (int i = 0; i < n; i++) {
        int is_reward = c->n_rewards && i == 1;
        int w = sep_w + text_width(piece[i], strlen(piece[i])) + (is_reward ? spark_w : 0);
        if (used + w > room) continue;
        used += puts_w(sep, sep_w);
        used += puts_w(piece[i], room - used);
        if (is_reward) {
            attron(style(PAIR_SPARK, A_BOLD));
            used += puts_w(spark, room - used);
            attroff(style(PAIR_SPARK, A_BOLD));
        }
    }
    if (busy_w && busy_w <= width) {
        move(y, width - busy_w);
        attron(A_BOLD);
        puts_w(busy, busy_w);
        attroff(A_BOLD);
    }
    attroff(A_REVERSE);
}

static void draw_message(const UiView *v, int y, int width) {
    const Chat *c = v->chat;
    char buf[512];
    move(y, 0);
    if (v->extra && *v->extra) {
        puts_w(v->extra, width);
    } else if (c->message[0]) {
        attr_t a = c->message_error ? style(PAIR_ERROR, A_BOLD) | A_BOLD : 0;
        attron(a);
        puts_w(c->message, width);
        attroff(a);
    } else if (c->has_terms) { /* the longest form of the breakdown that fits */
        const RewardTerms *t = &c->terms;
        static const char *forms[] = {
            "%s: R %+.2f = human %+.2f  fluency %+.2f  relevance %+.2f  informativeness %+.2f  safety %+.2f  "
            "(guessed %+.2f)",
            "%s: R %+.2f = human %+.2f fluency %+.2f relevance %+.2f inform %+.2f safety %+.2f",
            "%s: R %+.2f = hum %+.2f flu %+.2f rel %+.2f inf %+.2f saf %+.2f",
            "R%+.1f %s h%+.1f f%+.1f r%+.1f i%+.1f s%+.1f"};
        for (int i = 0; i < 4; i++) {
            if (i == 3) snprintf(buf, sizeof buf, forms[i], t->total, c->terms_label, t->human, t->fluency,
                                 t->relevance, t->informativeness, t->safety);
            else snprintf(buf, sizeof buf, forms[i], c->terms_label, t->total, t->human, t->fluency, t->relevance,
                          t->informativeness, t->safety, c->guess); /* the shorter forms leave the guess out */
            if (text_width(buf, strlen(buf)) <= width) break;
        }
        puts_w(buf, width);
    } else {
        attron(A_DIM);
        puts_w("? help   Tab completes /commands   PgUp/PgDn scroll   Ctrl-D quits", width);
        attroff(A_DIM);
    }
}

/* The input line, scrolled sideways so the cursor stays visible. Returns the cursor column. */
static int draw_input(const UiView *v, int y, int width) {
    move(y, 0);
    if (v->ask) {
        attron(A_BOLD);
        int w = puts_w(v->ask, width);
        attroff(A_BOLD);
        return w < width ? w : width - 1;
    }
    char *prompt = text_sanitize(v->prompt, strlen(v->prompt), 0);
    int pw = puts_w(prompt, width / 2);
    free(prompt);
    /* sanitize the line, remembering where the cursor lands */
    char *safe = xmalloc(v->line_len * 3 + 4);
    size_t o = 0, cur = 0;
    int found = 0;
    for (size_t i = 0; i < v->line_len;) {
        if (i >= v->point && !found) cur = o, found = 1;
        uint32_t cp;
        i += (size_t)utf8_decode(v->line + i, v->line_len - i, &cp);
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) cp = UTF8_REPLACEMENT;
        o += (size_t)utf8_encode(cp, safe + o);
    }
    if (!found) cur = o;
    int avail = width - pw - 1, shown = 0;
    size_t start = cur;
    if (avail <= 0) start = 0, shown = text_width(safe, cur);
    while (avail > 0 && start > 0) { /* the characters left of the cursor that fit, from the cursor
                                        back: one pass, so a 64 KB line draws as fast as a short one */
        size_t prev = start - 1;
        while (prev > 0 && ((unsigned char)safe[prev] & 0xC0) == 0x80) prev--;
        int w = text_width(safe + prev, start - prev);
        if (shown + w > avail) break;
        shown += w, start = prev;
    }
    int cx = pw + shown;
    put(safe + start, o - start, width - pw);
    free(safe);
    return cx < width ? cx : width - 1;
}

static void draw_help(int rows, int cols) {
    static const char *lines[] = {
        "rlchat: keys",
        "",
        "Enter       send the message",
        "+  -        rate the last reply good / bad",
        "1 .. 5      rate it with stars (1 bad, 5 good)",
        "u           undo the last rating and its update",
        "r           another reply (b); then a or b keeps the better",
        "e           edit the reply: your version is learned over it",
        "            (these act on an empty input line only)",
        "? or F1     this help",
        "PgUp PgDn   scroll back and forth (mouse wheel too)",
        "Up Down     history; Ctrl-R searches it",
        "Tab         complete a /command",
        "Ctrl-C      stop a reply; twice on an empty line quits",
        "Ctrl-D      quit (on an empty line)",
        "",
        "/help /good /bad /rate N /undo /regen /prefer a|b /edit TEXT",
        "/save [NAME] /load NAME /models /reset /clear",
        "/set KEY VALUE /show /export FILE /quit",
        "",
        "press any key to close"};
    int n = (int)(sizeof lines / sizeof *lines);
    int w = cols - 4 < 66 ? cols - 4 : 66, h = rows - 2 < n + 2 ? rows - 2 : n + 2;
    if (w < 10 || h < 3) return;
    int y0 = (rows - h) / 2, x0 = (cols - w) / 2;
    for (int y = 0; y < h; y++) {
        move(y0 + y, x0);
        for (int x = 0; x < w; x++) addch(' ');
    }
    attron(A_BOLD);
    mvhline(y0, x0, ACS_HLINE, w);
    mvhline(y0 + h - 1, x0, ACS_HLINE, w);
    mvvline(y0, x0, ACS_VLINE, h);
    mvvline(y0, x0 + w - 1, ACS_VLINE, h);
    mvaddch(y0, x0, ACS_ULCORNER);
    mvaddch(y0, x0 + w - 1, ACS_URCORNER);
    mvaddch(y0 + h - 1, x0, ACS_LLCORNER);
    mvaddch(y0 + h - 1, x0 + w - 1, ACS_LRCORNER);
    attroff(A_BOLD);
    for (int i = 0; i < n && i < h - 2; i++) {
        move(y0 + 1 + i, x0 + 2);
        if (i == 0) attron(A_BOLD);
        puts_w(lines[i], w - 4);
        if (i == 0) attroff(A_BOLD);
    }
}

/* ---- the frame ---- */

void ui_draw(const UiView *v) {
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    erase();
    if (rows < UI_MIN_ROWS || cols < UI_MIN_COLS) {
        char msg[2][48];
        snprintf(msg[0], sizeof msg[0], "terminal too small");
        snprintf(msg[1], sizeof msg[1], "%dx%d; needs %dx%d", cols, rows, UI_MIN_COLS, UI_MIN_ROWS);
        for (int i = 0; i < 2 && i < rows; i++) {
            int w = text_width(msg[i], strlen(msg[i]));
            move(rows > 2 ? rows / 2 - 1 + i : i, cols > w ? (cols - w) / 2 : 0);
            puts_w(msg[i], cols);
        }
        curs_set(0);
        refresh();
        return;
    }
    int height = rows - 3;
    draw_transcript(v, height, cols);
    draw_status(v, rows - 3, cols);
    draw_message(v, rows - 2, cols);
    int cx = draw_input(v, rows - 1, cols);
    if (v->help) {
        draw_help(rows, cols);
        curs_set(0);
    } else {
        move(rows - 1, cx);
        curs_set(1);
    }
    refresh();
}

int ui_page_rows(void) {
    int rows = getmaxy(stdscr) - 3;
    return rows > 1 ? rows - 1 : 1;
}

int ui_wheel(void) {
    MEVENT ev;
    if (getmouse(&ev) != OK) return 0;
    if (ev.bstate & BUTTON4_PRESSED) return 3;
    if (ev.bstate & BUTTON5_PRESSED) return -3;
    return 0;
}
