/* The nikunjy/rules parser, reproduced token for token.
 *
 * The Go library runs an ANTLR 4 parser with the default error strategy and
 * no error listeners, and never checks for syntax errors: whatever tree the
 * recovery produces is evaluated. `x eq  1` (two spaces) still compares,
 * `not x eq 1` gets a conjured '(' and negates, trailing text is dropped. So
 * this file follows the generated parser rule by rule with the runtime's
 * recovery (single-token deletion and insertion, resynchronisation on the
 * follow sets of the rule invocation stack), the lexer's error skipping and
 * the adaptive predictions worked out for this grammar. State numbers are
 * those of the grammar's ATN, because the recovery sets depend on them.
 *
 * The tree is then compiled into the AST of query_ast.h. */
#include "query_ast.h"

#include "unicode_lower.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Token sets ------------------------------------------------------ */

typedef uint64_t vx_tset;

#define B(t) ((vx_tset)1 << ((t) + 1))
#define EPS ((vx_tset)1 << 40)
#define QUERY_FIRST (B(VX_T_NOT) | B(VX_T_SP) | B(VX_T_LPAREN) | B(VX_T_ATTRNAME))
#define VALUE_FIRST                                                                    \
    (B(VX_T_BOOLEAN) | B(VX_T_NULL) | B(VX_T_VERSION) | B(VX_T_STRING) | B(VX_T_DOUBLE) | \
     B(VX_T_MINUS) | B(VX_T_INT) | B(VX_T_LBRACK))
#define OPS                                                                            \
    (B(VX_T_IN) | B(VX_T_EQ) | B(VX_T_NE) | B(VX_T_GT) | B(VX_T_LT) | B(VX_T_GE) |       \
     B(VX_T_LE) | B(VX_T_CO) | B(VX_T_SW) | B(VX_T_EW))
#define LOOP_EXIT (B(VX_T_SP) | EPS)

/* Tokens that can come next from an ATN state without leaving its rule, EPS
 * when the rule can end there (the ATN's LL(1) "next tokens"). */
static vx_tset within(int state)
{
    switch (state) {
    case 21: return B(VX_T_NOT);
    case 22: return B(VX_T_NOT) | B(VX_T_SP) | B(VX_T_LPAREN);
    case 23: case 25: return B(VX_T_SP) | B(VX_T_LPAREN);
    case 26: case 27: return B(VX_T_LPAREN);
    case 29: case 30: case 31: case 47: case 53: return QUERY_FIRST;
    case 24: case 28: case 32: case 38: case 42: case 44: case 50: case 52: return B(VX_T_SP);
    case 33: return B(VX_T_SP) | B(VX_T_RPAREN);
    case 34: case 35: return B(VX_T_RPAREN);
    case 36: case 40: case 46: case 48: case 55: case 56: case 58: return LOOP_EXIT;
    case 39: return B(VX_T_PR);
    case 43: return OPS;
    case 45: case 81: return VALUE_FIRST;
    case 51: return B(VX_T_LOGICAL);
    case 57: case 62: case 65: case 77: case 82: case 85: case 92: case 95: case 102:
    case 105: case 112: return EPS;
    case 59: case 64: return B(VX_T_ATTRNAME);
    case 61: return B(VX_T_DOT) | EPS;
    case 60: case 63: return B(VX_T_DOT);
    case 66: return B(VX_T_BOOLEAN);
    case 67: return B(VX_T_NULL);
    case 68: return B(VX_T_VERSION);
    case 69: case 84: case 86: case 88: case 89: case 91: return B(VX_T_STRING);
    case 70: case 94: case 96: case 98: case 99: case 101: return B(VX_T_DOUBLE);
    case 71: return B(VX_T_MINUS);
    case 72: return B(VX_T_MINUS) | B(VX_T_INT);
    case 73: case 74: case 104: case 106: case 108: case 109: case 111: return B(VX_T_INT);
    case 75: return B(VX_T_EXP);
    case 76: return B(VX_T_EXP) | EPS;
    case 83: case 93: case 103: return B(VX_T_LBRACK);
    case 87: case 97: case 107: return B(VX_T_COMMA);
    case 90: case 100: case 110: return B(VX_T_RBRACK);
    default: return 0;
    }
}

/* The state a matching state's (only) transition leads to. */
static int next_state(int state)
{
    switch (state) {
    case 21: return 23;
    case 24: return 26;
    case 27: return 29;
    case 28: return 30;
    case 32: return 34;
    case 35: return 36;
    case 39: return 40;
    case 43: return 44;
    case 44: return 45;
    case 59: return 61;
    case 63: return 64;
    case 66: case 67: case 68: case 69: case 70: return 82;
    case 71: return 73;
    case 74: return 76;
    case 75: return 77;
    case 90: return 92;
    case 100: return 102;
    case 110: return 112;
    default: return state + 1; /* 38, 42, 50-52, 83, 86-87, 89, 93, ... */
    }
}

/* Where the rule invoked from `state` returns to. */
static int follow_state(int state)
{
    switch (state) {
    case 31: return 33;
    case 53: return 55;
    case 60: return 62;
    case 78: case 79: case 80: return 82;
    case 88: return 92;
    case 98: return 102;
    case 108: return 112;
    default: return state + 1; /* 37, 41, 45, 64, 84, 94, 104 */
    }
}

/* ---- Lexer ------------------------------------------------------------ */

typedef struct vx_qtok {
    int type;
    int32_t index;   /* position in the stream; -1 for a conjured token */
    const char *text;
    uint32_t len;
} vx_qtok;

static const struct {
    int type;
    const char *text;
} vx_literals[] = {
    {VX_T_LPAREN, "("}, {VX_T_RPAREN, ")"}, {VX_T_PR, "pr"}, {VX_T_DOT, "."},
    {VX_T_MINUS, "-"}, {VX_T_LBRACK, "["}, {VX_T_RBRACK, "]"}, {VX_T_NOT, "not"},
    {VX_T_NOT, "NOT"}, {VX_T_LOGICAL, "and"}, {VX_T_LOGICAL, "or"}, {VX_T_BOOLEAN, "true"},
    {VX_T_BOOLEAN, "false"}, {VX_T_NULL, "null"}, {VX_T_IN, "IN"}, {VX_T_IN, "in"},
    {VX_T_EQ, "eq"}, {VX_T_EQ, "EQ"}, {VX_T_EQ, "=="}, {VX_T_NE, "ne"},
    {VX_T_NE, "NE"}, {VX_T_NE, "!="}, {VX_T_GT, "gt"}, {VX_T_GT, "GT"},
    {VX_T_GT, ">"}, {VX_T_LT, "lt"}, {VX_T_LT, "LT"}, {VX_T_LT, "<"},
    {VX_T_GE, "ge"}, {VX_T_GE, "GE"}, {VX_T_GE, ">="}, {VX_T_LE, "le"},
    {VX_T_LE, "LE"}, {VX_T_LE, "<="}, {VX_T_CO, "co"}, {VX_T_CO, "CO"},
    {VX_T_SW, "sw"}, {VX_T_SW, "SW"}, {VX_T_EW, "ew"}, {VX_T_EW, "EW"},
    {VX_T_NEWLINE, "\n"},
};

typedef struct vx_qlex {
    const uint8_t *s;
    size_t n;
} vx_qlex;

static int at(const vx_qlex *l, size_t i)
{
    return i < l->n ? l->s[i] : -1;
}

static bool digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static size_t span(const vx_qlex *l, size_t i, bool (*ok)(int))
{
    size_t j = i;
    while (ok(at(l, j)))
        j++;
    return j - i;
}

static bool attr_char(int c)
{
    return alpha(c) || digit(c) || c == '_' || c == ':' || c == '-';
}

static bool is_space(int c)
{
    return c == ' ';
}

static bool is_newline(int c)
{
    return c == '\n';
}

static bool ident_char(int c)
{
    return alpha(c) || digit(c) || c == '-';
}

static size_t len_attrname(const vx_qlex *l, size_t i)
{
    return alpha(at(l, i)) ? 1 + span(l, i + 1, attr_char) : 0;
}

/* INT: '0' | [1-9][0-9]* */
static size_t len_int(const vx_qlex *l, size_t i)
{
    int c = at(l, i);
    if (c == '0')
        return 1;
    return (c >= '1' && c <= '9') ? span(l, i, digit) : 0;
}

static size_t len_exp(const vx_qlex *l, size_t i)
{
    if (at(l, i) != 'e' && at(l, i) != 'E')
        return 0;
    size_t j = i + 1;
    if (at(l, j) == '+' || at(l, j) == '-')
        j++;
    size_t k = len_int(l, j);
    return k ? j + k - i : 0;
}

static size_t len_double(const vx_qlex *l, size_t i)
{
    size_t j = i + (at(l, i) == '-');
    size_t k = len_int(l, j);
    if (!k || at(l, j + k) != '.')
        return 0;
    j += k + 1;
    size_t d = span(l, j, digit);
    if (!d)
        return 0;
    j += d;
    return j + len_exp(l, j) - i;
}

/* Identifiers after '-' in a version: alphanumeric (some non-digit) or a
 * number without leading zeroes. Returns how much of the run at i is one. */
static size_t len_pre_ident(const vx_qlex *l, size_t i, bool *whole)
{
    size_t run = span(l, i, ident_char);
    *whole = true;
    if (run <= 1 || at(l, i) != '0')
        return run;
    for (size_t k = 0; k < run; k++)
        if (!digit(at(l, i + k)))
            return run;
    *whole = false;
    return 1; /* "0" then digits: only the "0" is an identifier */
}

/* VERSION: semver 2.0; the longest prefix of the input that is one. */
static size_t len_version(const vx_qlex *l, size_t i)
{
    size_t j = i;
    for (int part = 0; part < 3; part++) {
        size_t k = len_int(l, j);
        if (!k)
            return 0;
        j += k;
        if (part < 2) {
            if (at(l, j) != '.')
                return 0;
            j++;
        }
    }
    size_t end = j;
    if (at(l, end) == '-') {
        size_t q = end + 1;
        for (;;) {
            bool whole;
            size_t k = len_pre_ident(l, q, &whole);
            if (!k)
                break;
            end = q + k;
            if (!whole)
                return end - i;
            if (at(l, end) != '.')
                break;
            q = end + 1;
        }
    }
    if (at(l, end) == '+') {
        size_t q = end + 1;
        size_t k;
        while ((k = span(l, q, ident_char)) != 0) {
            end = q + k;
            if (at(l, end) != '.')
                break;
            q = end + 1;
        }
    }
    return end - i;
}

static bool hex(int c)
{
    return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* STRING: '"' (ESC | ~["\\])* '"'. On failure *dead is where the lexer
 * stopped (the offending character, or the end). */
static size_t len_string(const vx_qlex *l, size_t i, size_t *dead)
{
    size_t j = i + 1;
    for (;;) {
        int c = at(l, j);
        if (c < 0) {
            *dead = j;
            return 0;
        }
        if (c == '"')
            return j + 1 - i;
        if (c != '\\') {
            j++;
            continue;
        }
        c = at(l, j + 1);
        if (c > 0 && strchr("\"\\/bfnrt", c)) {
            j += 2;
        } else if (c == 'u') {
            size_t k = 0;
            while (k < 4 && hex(at(l, j + 2 + k)))
                k++;
            if (k < 4) {
                *dead = j + 2 + k;
                return 0;
            }
            j += 6;
        } else {
            *dead = j + 1;
            return 0;
        }
    }
}

static size_t len_literal(const vx_qlex *l, size_t i, const char *lit)
{
    size_t n = strlen(lit);
    return (l->n - i >= n && memcmp(l->s + i, lit, n) == 0) ? n : 0;
}

static void candidate(int type, size_t len, int *best, size_t *best_len)
{
    if (len > *best_len) {
        *best = type;
        *best_len = len;
    }
}

/* The longest token at i, ties to the lower type. 0 when none: *skip then
 * says how many bytes the lexer's recovery drops. */
static int lex_one(const vx_qlex *l, size_t i, size_t *len, size_t *skip)
{
    int best = 0;
    size_t best_len = 0, dead = l->n;
    for (size_t k = 0; k < sizeof(vx_literals) / sizeof(vx_literals[0]); k++)
        candidate(vx_literals[k].type, len_literal(l, i, vx_literals[k].text), &best, &best_len);
    candidate(VX_T_ATTRNAME, len_attrname(l, i), &best, &best_len);
    candidate(VX_T_VERSION, len_version(l, i), &best, &best_len);
    if (at(l, i) == '"')
        candidate(VX_T_STRING, len_string(l, i, &dead), &best, &best_len);
    candidate(VX_T_DOUBLE, len_double(l, i), &best, &best_len);
    candidate(VX_T_INT, len_int(l, i), &best, &best_len);
    candidate(VX_T_EXP, len_exp(l, i), &best, &best_len);
    if (at(l, i) == ',')
        candidate(VX_T_COMMA, 1 + span(l, i + 1, is_space), &best, &best_len);
    if (at(l, i) == ' ')
        candidate(VX_T_SP, 1 + span(l, i + 1, is_newline), &best, &best_len);
    *len = best_len;
    if (best)
        return best;
    /* No token: the lexer consumed what some rule could still continue
     * with, then recovery drops one more character. */
    int c = at(l, i);
    if (c == '!' || c == '=')
        dead = i + 1;
    else if (c != '"')
        dead = i;
    *skip = (dead < l->n ? dead + 1 : l->n) - i;
    return 0;
}

/* Go lexes the query as runes, so inside a string literal every invalid
 * UTF-8 byte comes out of the token as U+FFFD. */
static bool sanitize(vx_arena *a, vx_qtok *t)
{
    const uint8_t *s = (const uint8_t *)t->text;
    size_t n = t->len, i = 0, bad = 0;
    while (i < n) {
        uint32_t r;
        size_t w = vx_utf8_decode(s + i, n - i, &r);
        bad += (w == 1 && r == VX_RUNE_ERROR);
        i += w;
    }
    if (!bad)
        return true;
    uint8_t *out = vx_arena_alloc(a, n + 2 * bad + 1);
    if (!out)
        return false;
    size_t o = 0;
    for (i = 0; i < n;) {
        uint32_t r;
        size_t w = vx_utf8_decode(s + i, n - i, &r);
        if (w == 1 && r == VX_RUNE_ERROR)
            o += vx_utf8_encode(VX_RUNE_ERROR, out + o);
        else
            memcpy(out + o, s + i, w), o += w;
        i += w;
    }
    t->text = (const char *)out;
    t->len = (uint32_t)o;
    return true;
}

static vx_qtok *tokenize(vx_arena *a, const char *text, size_t n, uint32_t *count)
{
    vx_qtok *toks = vx_arena_alloc(a, (n + 1) * sizeof(vx_qtok));
    if (!toks)
        return NULL;
    vx_qlex l = {(const uint8_t *)text, n};
    uint32_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t len = 0, skip = 0;
        int type = lex_one(&l, i, &len, &skip);
        if (!type) {
            i += skip;
            continue;
        }
        toks[k] = (vx_qtok){type, (int32_t)k, text + i, (uint32_t)len};
        if (type == VX_T_STRING && !sanitize(a, &toks[k]))
            return NULL;
        k++;
        i += len;
    }
    toks[k] = (vx_qtok){VX_T_EOF, (int32_t)k, "<EOF>", 5};
    *count = k + 1;
    return toks;
}

/* ---- Parse tree ------------------------------------------------------- */

/* Rule contexts by their generated class names, then terminals. */
typedef enum vx_pkind {
    PN_QUERY, PN_PAREN, PN_LOGICAL, PN_PRESENT, PN_COMPARE,
    PN_ATTRPATH, PN_SUBATTR,
    PN_VALUE, PN_BOOLEAN, PN_NULL, PN_VERSION, PN_STRING, PN_DOUBLE, PN_LONG,
    PN_LISTOF_INTS, PN_LISTOF_DOUBLES, PN_LISTOF_STRINGS,
    PN_LIST_INTS, PN_LIST_DOUBLES, PN_LIST_STRINGS,
    PN_SUB_INTS, PN_SUB_DOUBLES, PN_SUB_STRINGS,
    PN_TERMINAL, PN_ERROR_NODE
} vx_pkind;

static const char *const vx_pnames[] = {
    "Query", "ParenExp", "LogicalExp", "PresentExp", "CompareExp",
    "AttrPath", "SubAttr",
    "Value", "Boolean", "Null", "Version", "String", "Double", "Long",
    "ListOfInts", "ListOfDoubles", "ListOfStrings",
    "ListInts", "ListDoubles", "ListStrings",
    "SubListOfInts", "SubListOfDoubles", "SubListOfStrings",
};

typedef struct vx_pnode vx_pnode;
struct vx_pnode {
    uint8_t kind;          /* vx_pkind */
    int invoking;          /* ATN state the rule was invoked from, -1 at the root */
    vx_pnode *parent;
    vx_pnode **kids;
    uint32_t nkids, cap;
    const vx_qtok *tok;    /* terminals; CompareExp: its `op` */
};

typedef struct vx_qparser {
    vx_arena *a;
    const vx_qtok *toks;
    uint32_t ntok, pos;
    int state;
    vx_pnode *ctx;
    bool has_error;        /* a recognition error waits for the rule's handler */
    bool recovering;       /* the error strategy's errorRecoveryMode */
    int64_t last_error_index;
    bool have_error_states;
    uint64_t error_states[2];
    int depth;
    const char *fatal;     /* out of memory or too deep: stop everything */
} vx_qparser;

static vx_pnode *node_new(vx_qparser *p, vx_pkind kind, vx_pnode *parent, int invoking)
{
    vx_pnode *n = vx_arena_alloc(p->a, sizeof(*n));
    if (!n) {
        p->fatal = "out of memory";
        return NULL;
    }
    n->kind = (uint8_t)kind;
    n->parent = parent;
    n->invoking = invoking;
    return n;
}

static void add_child(vx_qparser *p, vx_pnode *parent, vx_pnode *child)
{
    if (!parent || !child)
        return;
    if (parent->nkids == parent->cap) {
        uint32_t cap = parent->cap ? parent->cap * 2 : 4;
        vx_pnode **kids = vx_arena_alloc(p->a, cap * sizeof(*kids));
        if (!kids) {
            p->fatal = "out of memory";
            return;
        }
        if (parent->nkids)
            memcpy(kids, parent->kids, parent->nkids * sizeof(*kids));
        parent->kids = kids;
        parent->cap = cap;
    }
    parent->kids[parent->nkids++] = child;
}

static void add_token(vx_qparser *p, const vx_qtok *t, bool error)
{
    vx_pnode *n = node_new(p, error ? PN_ERROR_NODE : PN_TERMINAL, p->ctx, -1);
    if (n) {
        n->tok = t;
        add_child(p, p->ctx, n);
    }
}

/* A labelled alternative's context replaces the generic one; like the Go
 * runtime's CopyFrom it keeps parent and invoking state but no children. */
static vx_pnode *relabel(vx_qparser *p, const vx_pnode *base, vx_pkind kind)
{
    return node_new(p, kind, base->parent, base->invoking);
}

/* ---- The error strategy ------------------------------------------------ */

/* After a fatal error the input reads as ended, so every loop winds down. */
static int la(const vx_qparser *p, uint32_t k)
{
    if (p->fatal)
        return VX_T_EOF;
    uint32_t i = p->pos + k - 1;
    return p->toks[i < p->ntok ? i : p->ntok - 1].type;
}

static const vx_qtok *lt1(const vx_qparser *p)
{
    return &p->toks[p->pos];
}

static void consume(vx_qparser *p)
{
    if (p->fatal)
        return;
    const vx_qtok *o = lt1(p);
    if (o->type != VX_T_EOF)
        p->pos++;
    add_token(p, o, p->recovering);
}

static void begin_error(vx_qparser *p)
{
    p->recovering = true;
}

static void end_error(vx_qparser *p)
{
    p->recovering = false;
    p->have_error_states = false;
    p->last_error_index = -1;
}

/* `first` continued through the invocation stack while the rule can end;
 * EOF once the start rule can end (ATN.getExpectedTokens). */
static vx_tset through_stack(const vx_qparser *p, vx_tset first)
{
    vx_tset set = first & ~EPS, following = first;
    for (const vx_pnode *c = p->ctx; c && c->invoking >= 0 && (following & EPS); c = c->parent) {
        following = within(follow_state(c->invoking));
        set |= following & ~EPS;
    }
    if (following & EPS)
        set |= B(VX_T_EOF);
    return set;
}

static vx_tset expected(const vx_qparser *p)
{
    return through_stack(p, within(p->state));
}

/* Everything that can follow any rule on the stack (getErrorRecoverySet). */
static vx_tset recovery_set(const vx_qparser *p)
{
    vx_tset set = 0;
    for (const vx_pnode *c = p->ctx; c && c->invoking >= 0; c = c->parent)
        set |= within(follow_state(c->invoking));
    return set & ~EPS;
}

static bool has_error_state(const vx_qparser *p, int state)
{
    return p->have_error_states && (p->error_states[state >> 6] >> (state & 63) & 1);
}

static void recover(vx_qparser *p)
{
    if (p->last_error_index == p->pos && has_error_state(p, p->state))
        consume(p);
    p->last_error_index = p->pos;
    if (!p->have_error_states)
        memset(p->error_states, 0, sizeof(p->error_states));
    p->have_error_states = true;
    p->error_states[p->state >> 6] |= (uint64_t)1 << (p->state & 63);
    vx_tset set = recovery_set(p);
    while (!p->fatal && la(p, 1) != VX_T_EOF && !(set & B(la(p, 1))))
        consume(p);
}

/* The generated rules' error exit: report (entering recovery mode), resync. */
static void handle_error(vx_qparser *p)
{
    if (!p->has_error)
        return;
    if (!p->recovering)
        begin_error(p);
    recover(p);
    p->has_error = false;
}

static const vx_qtok *single_token_deletion(vx_qparser *p)
{
    if (!(expected(p) & B(la(p, 2))))
        return NULL;
    if (!p->recovering)
        begin_error(p);
    consume(p);
    const vx_qtok *m = lt1(p);
    end_error(p);
    return m;
}

static bool single_token_insertion(vx_qparser *p)
{
    if (!(through_stack(p, within(next_state(p->state))) & B(la(p, 1))))
        return false;
    if (!p->recovering)
        begin_error(p);
    return true;
}

/* The runtime's LiteralNames, for the text of a conjured token. */
static const char *literal_name(int type)
{
    static const char *const names[] = {"", "'('", "')'", "'pr'", "'.'", "'-'", "'['",
                                        "']'", "", "", "", "'null'"};
    if (type == VX_T_NEWLINE)
        return "'\\n'";
    return type < (int)(sizeof(names) / sizeof(names[0])) ? names[type] : "";
}

static const vx_qtok *missing_token(vx_qparser *p)
{
    vx_tset set = expected(p);
    int type = VX_T_EOF;
    while (type <= VX_T_SP && !(set & B(type)))
        type++;
    char buf[48];
    if (type == VX_T_EOF)
        snprintf(buf, sizeof(buf), "<missing EOF>");
    else if (type > 0 && type < VX_T_COMMA)
        snprintf(buf, sizeof(buf), "<missing %s>", literal_name(type));
    else
        snprintf(buf, sizeof(buf), "<missing undefined>");
    vx_qtok *t = vx_arena_alloc(p->a, sizeof(*t));
    char *text = vx_arena_strndup(p->a, buf, strlen(buf));
    if (!t || !text) {
        p->fatal = "out of memory";
        return lt1(p);
    }
    *t = (vx_qtok){type, -1, text, (uint32_t)strlen(buf)};
    return t;
}

static const vx_qtok *recover_inline(vx_qparser *p)
{
    const vx_qtok *m = single_token_deletion(p);
    if (m) {
        consume(p);
        return m;
    }
    if (single_token_insertion(p))
        return missing_token(p);
    p->has_error = true;
    return NULL;
}

static void match(vx_qparser *p, int state, int type)
{
    p->state = state;
    const vx_qtok *t = lt1(p);
    if (t->type == type) {
        end_error(p);
        consume(p);
        return;
    }
    t = recover_inline(p);
    if (!p->has_error && t->index == -1)
        add_token(p, t, true);
}

static void sync_at(vx_qparser *p, int state)
{
    p->state = state;
    if (p->recovering)
        return;
    vx_tset next = within(state);
    if ((next & EPS) || (next & B(la(p, 1))))
        return;
    if (!single_token_deletion(p))
        p->has_error = true;
}

static void enter_rule(vx_qparser *p, vx_pnode *n, int start_state)
{
    p->state = start_state;
    p->ctx = n;
    add_child(p, n->parent, n);
}

static void enter_outer_alt(vx_qparser *p, vx_pnode *n)
{
    if (p->ctx != n && p->ctx->parent) {
        vx_pnode *parent = p->ctx->parent;
        parent->nkids--;
        add_child(p, parent, n);
    }
    p->ctx = n;
}

static void exit_rule(vx_qparser *p)
{
    p->state = p->ctx->invoking;
    p->ctx = p->ctx->parent;
}

/* ---- Adaptive predictions, solved for this grammar ----------------------
 * Each returns the alternative ALL(*) picks, or 0 with the error set (no
 * viable alternative). Like AdaptivePredict, success clears a pending error. */

static int predicted(vx_qparser *p, int alt)
{
    p->has_error = alt == 0;
    return alt;
}

static bool is_op(int t)
{
    return t >= VX_T_IN && t <= VX_T_EW;
}

/* query: 1 parenthesised, 2 `pr`, 3 comparison. */
static int predict_primary(vx_qparser *p)
{
    int t = la(p, 1);
    if (t == VX_T_NOT || t == VX_T_SP || t == VX_T_LPAREN)
        return predicted(p, 1);
    if (t != VX_T_ATTRNAME)
        return predicted(p, 0);
    for (uint32_t k = 2;; k += 2) {
        t = la(p, k);
        if (t == VX_T_DOT && la(p, k + 1) == VX_T_ATTRNAME)
            continue;
        if (t != VX_T_SP)
            return predicted(p, 0);
        t = la(p, k + 1);
        return predicted(p, t == VX_T_PR ? 2 : is_op(t) ? 3 : 0);
    }
}

/* The optional space after '(': an inner query may itself start with one. */
static int predict_paren_space(vx_qparser *p)
{
    int t = la(p, 1);
    if (t == VX_T_SP) {
        t = la(p, 2);
        bool ok = t == VX_T_LPAREN || t == VX_T_NOT || t == VX_T_SP || t == VX_T_ATTRNAME;
        return predicted(p, ok ? 1 : 0);
    }
    bool starts = t == VX_T_NOT || t == VX_T_LPAREN || t == VX_T_ATTRNAME;
    return predicted(p, starts ? 2 : 0);
}

/* Another `and`/`or` operand (1) or the end of this query (2). The
 * precedence filter leaves the right operand of a logical expression no way
 * to continue, hence left associativity; anything but ` and`/` or` ends. */
static int predict_loop(vx_qparser *p, int prec)
{
    bool more = prec == 0 && la(p, 1) == VX_T_SP && la(p, 2) == VX_T_LOGICAL;
    return predicted(p, more ? 1 : 2);
}

/* The optional exponent of an integer: whatever else follows ends it. */
static int predict_exponent(vx_qparser *p)
{
    return predicted(p, la(p, 1) == VX_T_EXP ? 1 : 2);
}

static int predict_value(vx_qparser *p)
{
    switch (la(p, 1)) {
    case VX_T_BOOLEAN: return predicted(p, 1);
    case VX_T_NULL: return predicted(p, 2);
    case VX_T_VERSION: return predicted(p, 3);
    case VX_T_STRING: return predicted(p, 4);
    case VX_T_DOUBLE: return predicted(p, 5);
    case VX_T_MINUS: case VX_T_INT: return predicted(p, 6);
    case VX_T_LBRACK:
        switch (la(p, 2)) {
        case VX_T_INT: return predicted(p, 7);
        case VX_T_DOUBLE: return predicted(p, 8);
        case VX_T_STRING: return predicted(p, 9);
        default: return predicted(p, 0);
        }
    default: return predicted(p, 0);
    }
}

static int predict_sublist(vx_qparser *p, int elem)
{
    if (la(p, 1) != elem)
        return predicted(p, 0);
    int t = la(p, 2);
    return predicted(p, t == VX_T_COMMA ? 1 : t == VX_T_RBRACK ? 2 : 0);
}

/* ---- Rules -------------------------------------------------------------- */

static void rule_attr_path(vx_qparser *p)
{
    int levels = 0;
    for (;;) {
        vx_pnode *ap = node_new(p, PN_ATTRPATH, p->ctx, p->state);
        if (!ap)
            break;
        enter_rule(p, ap, 2);
        levels++;
        match(p, 59, VX_T_ATTRNAME);
        if (!p->has_error)
            sync_at(p, 61);
        if (p->has_error || la(p, 1) != VX_T_DOT)
            break;
        p->state = 60;
        vx_pnode *sub = node_new(p, PN_SUBATTR, p->ctx, 60);
        if (!sub)
            break;
        enter_rule(p, sub, 4);
        levels++;
        match(p, 63, VX_T_DOT);
        if (p->has_error)
            break;
        p->state = 64;
    }
    handle_error(p);
    while (levels--)
        exit_rule(p);
}

typedef struct vx_list_states {
    int elem;                        /* token type of the elements */
    vx_pkind list, sub;
    int list_start, lbrack, call, sub_start, decide, more_elem, comma, recurse,
        last_elem, rbrack;
} vx_list_states;

static const vx_list_states vx_list_ints = {VX_T_INT, PN_LIST_INTS, PN_SUB_INTS,
                                            16, 103, 104, 18, 111, 106, 107, 108, 109, 110};
static const vx_list_states vx_list_doubles = {VX_T_DOUBLE, PN_LIST_DOUBLES, PN_SUB_DOUBLES,
                                               12, 93, 94, 14, 101, 96, 97, 98, 99, 100};
static const vx_list_states vx_list_strings = {VX_T_STRING, PN_LIST_STRINGS, PN_SUB_STRINGS,
                                               8, 83, 84, 10, 91, 86, 87, 88, 89, 90};

/* subListOfX : X COMMA subListOfX | X ']' — the right recursion as a loop. */
static void rule_sublist(vx_qparser *p, const vx_list_states *ls)
{
    int levels = 0;
    while (!p->fatal) {
        vx_pnode *sub = node_new(p, ls->sub, p->ctx, p->state);
        if (!sub)
            break;
        enter_rule(p, sub, ls->sub_start);
        levels++;
        sync_at(p, ls->decide);
        if (p->has_error)
            break;
        int alt = predict_sublist(p, ls->elem);
        if (alt == 1) {
            match(p, ls->more_elem, ls->elem);
            if (!p->has_error)
                match(p, ls->comma, VX_T_COMMA);
            if (p->has_error)
                break;
            p->state = ls->recurse;
            continue;
        }
        if (alt == 2) {
            match(p, ls->last_elem, ls->elem);
            if (!p->has_error)
                match(p, ls->rbrack, VX_T_RBRACK);
        }
        break;
    }
    handle_error(p);
    while (levels--)
        exit_rule(p);
}

static void rule_list(vx_qparser *p, const vx_list_states *ls)
{
    vx_pnode *n = node_new(p, ls->list, p->ctx, p->state);
    if (!n)
        return;
    enter_rule(p, n, ls->list_start);
    match(p, ls->lbrack, VX_T_LBRACK);
    if (!p->has_error) {
        p->state = ls->call;
        rule_sublist(p, ls);
    }
    handle_error(p);
    exit_rule(p);
}

static void value_long(vx_qparser *p)
{
    sync_at(p, 72);
    if (p->has_error)
        return;
    if (la(p, 1) == VX_T_MINUS) {
        match(p, 71, VX_T_MINUS);
        if (p->has_error)
            return;
    }
    match(p, 74, VX_T_INT);
    if (p->has_error)
        return;
    sync_at(p, 76);
    if (predict_exponent(p) == 1)
        match(p, 75, VX_T_EXP);
}

static void rule_value(vx_qparser *p)
{
    static const vx_pkind kinds[] = {PN_VALUE, PN_BOOLEAN, PN_NULL, PN_VERSION, PN_STRING,
                                     PN_DOUBLE, PN_LONG, PN_LISTOF_INTS, PN_LISTOF_DOUBLES,
                                     PN_LISTOF_STRINGS};
    static const int tokens[] = {0, VX_T_BOOLEAN, VX_T_NULL, VX_T_VERSION, VX_T_STRING,
                                 VX_T_DOUBLE};
    vx_pnode *base = node_new(p, PN_VALUE, p->ctx, p->state);
    if (!base)
        return;
    enter_rule(p, base, 6);
    sync_at(p, 81);
    int alt = p->has_error ? 0 : predict_value(p);
    if (alt) {
        vx_pnode *n = relabel(p, base, kinds[alt]);
        if (!n)
            return;
        enter_outer_alt(p, n);
        if (alt <= 5)
            match(p, 65 + alt, tokens[alt]);
        else if (alt == 6)
            value_long(p);
        else {
            p->state = 71 + alt; /* 78, 79, 80 */
            rule_list(p, alt == 7 ? &vx_list_ints : alt == 8 ? &vx_list_doubles : &vx_list_strings);
        }
    }
    handle_error(p);
    exit_rule(p);
}

static vx_pnode *rule_query(vx_qparser *p, int prec);

static void paren_body(vx_qparser *p)
{
    sync_at(p, 22);
    if (p->has_error)
        return;
    if (la(p, 1) == VX_T_NOT) {
        match(p, 21, VX_T_NOT);
        if (p->has_error)
            return;
    }
    sync_at(p, 25);
    if (p->has_error)
        return;
    if (la(p, 1) == VX_T_SP) {
        match(p, 24, VX_T_SP);
        if (p->has_error)
            return;
    }
    match(p, 27, VX_T_LPAREN);
    if (p->has_error)
        return;
    sync_at(p, 29); /* the generated code does not check this one */
    if (predict_paren_space(p) == 1) {
        match(p, 28, VX_T_SP);
        if (p->has_error)
            return;
    } else if (p->has_error) {
        return;
    }
    p->state = 31;
    rule_query(p, 0);
    sync_at(p, 33);
    if (p->has_error)
        return;
    if (la(p, 1) == VX_T_SP) {
        match(p, 32, VX_T_SP);
        if (p->has_error)
            return;
    }
    match(p, 35, VX_T_RPAREN);
}

static void compare_body(vx_qparser *p)
{
    p->state = 41;
    rule_attr_path(p);
    match(p, 42, VX_T_SP);
    if (p->has_error)
        return;
    p->state = 43;
    const vx_qtok *op = lt1(p);
    if (is_op(op->type)) {
        end_error(p);
        consume(p);
    } else {
        op = recover_inline(p);
    }
    p->ctx->tok = op;
    /* No error check here in the generated code either. */
    match(p, 44, VX_T_SP);
    if (p->has_error)
        return;
    p->state = 45;
    rule_value(p);
}

static void present_body(vx_qparser *p)
{
    p->state = 37;
    rule_attr_path(p);
    match(p, 38, VX_T_SP);
    if (!p->has_error)
        match(p, 39, VX_T_PR);
}

/* The primary alternative; p->ctx becomes its labelled context. */
static void query_primary(vx_qparser *p)
{
    static const vx_pkind kinds[] = {PN_QUERY, PN_PAREN, PN_PRESENT, PN_COMPARE};
    sync_at(p, 47);
    int alt = p->has_error ? 0 : predict_primary(p);
    vx_pnode *n = alt ? relabel(p, p->ctx, kinds[alt]) : NULL;
    if (!n)
        return;
    p->ctx = n;
    if (alt == 1)
        paren_body(p);
    else if (alt == 2)
        present_body(p);
    else
        compare_body(p);
}

/* ( SP LOGICAL_OPERATOR SP query(4) )* around what was parsed so far. */
static void query_loop(vx_qparser *p, int prec, vx_pnode *parent, int parent_state)
{
    sync_at(p, 56);
    int alt = p->has_error ? 2 : predict_loop(p, prec);
    while (alt == 1) {
        vx_pnode *logical = node_new(p, PN_LOGICAL, parent, parent_state);
        if (!logical)
            return;
        /* PushNewRecursionContext: the query so far becomes the left operand. */
        vx_pnode *prev = p->ctx;
        prev->parent = logical;
        prev->invoking = 0;
        p->ctx = logical;
        add_child(p, logical, prev);
        p->state = 49;
        if (prec > 3) { /* the precedence predicate */
            p->has_error = true;
            return;
        }
        match(p, 50, VX_T_SP);
        if (!p->has_error)
            match(p, 51, VX_T_LOGICAL);
        if (!p->has_error)
            match(p, 52, VX_T_SP);
        if (p->has_error)
            return;
        p->state = 53;
        rule_query(p, 4);
        sync_at(p, 58);
        alt = p->has_error ? 2 : predict_loop(p, prec);
    }
}

/* query (left-recursive). Returns the context the caller's tree receives. */
static vx_pnode *rule_query(vx_qparser *p, int prec)
{
    vx_pnode *parent = p->ctx;
    int parent_state = p->state;
    if (p->depth >= VX_MAX_DEPTH) {
        p->fatal = "query nesting too deep";
        return NULL;
    }
    vx_pnode *local = node_new(p, PN_QUERY, parent, parent_state);
    if (!local)
        return NULL;
    p->depth++;
    p->state = 0;
    p->ctx = local;
    query_primary(p);
    if (!p->has_error)
        query_loop(p, prec, parent, parent_state);
    handle_error(p);
    vx_pnode *ret = p->ctx;
    p->ctx = parent;
    ret->parent = parent;
    add_child(p, parent, ret);
    p->depth--;
    return ret;
}

/* ---- Go's strconv, for literals and their error messages ---------------- */

static void put(char *out, size_t cap, size_t *n, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++, (*n)++)
        if (*n < cap)
            out[*n] = s[i];
}

size_t vx_go_quote(const char *s, size_t n, char *out, size_t cap)
{
    static const char hexd[] = "0123456789abcdef";
    size_t o = 0;
    put(out, cap, &o, "\"", 1);
    for (size_t i = 0; i < n;) {
        uint32_t r;
        size_t w = vx_utf8_decode((const uint8_t *)s + i, n - i, &r);
        char e[12];
        size_t k = 0;
        if (w == 1 && r == VX_RUNE_ERROR) {
            e[k++] = '\\', e[k++] = 'x';
            e[k++] = hexd[(uint8_t)s[i] >> 4], e[k++] = hexd[(uint8_t)s[i] & 15];
        } else if (r == '"' || r == '\\') {
            e[k++] = '\\', e[k++] = (char)r;
        } else if (vx_unicode_is_print(r)) {
            put(out, cap, &o, s + i, w);
        } else if (r && r < 14 && strchr("\a\b\f\n\r\t\v", (int)r)) {
            e[k++] = '\\', e[k++] = "0000000abtnvfr"[r];
        } else if (r < ' ' || r == 0x7f) {
            e[k++] = '\\', e[k++] = 'x', e[k++] = hexd[r >> 4], e[k++] = hexd[r & 15];
        } else {
            int digits = r < 0x10000 ? 4 : 8;
            e[k++] = '\\', e[k++] = digits == 4 ? 'u' : 'U';
            for (int d = digits - 1; d >= 0; d--)
                e[k++] = hexd[(r >> (4 * d)) & 15];
        }
        put(out, cap, &o, e, k);
        i += w;
    }
    put(out, cap, &o, "\"", 1);
    if (cap)
        out[o < cap ? o : cap - 1] = '\0';
    return o;
}

/* "strconv.<fn>: parsing <quoted>: <why>" in the arena. */
static const char *num_error(vx_arena *a, const char *fn, const char *s, size_t n, bool range)
{
    const char *why = range ? "value out of range" : "invalid syntax";
    size_t qlen = vx_go_quote(s, n, NULL, 0);
    size_t len = strlen("strconv.") + strlen(fn) + strlen(": parsing ") + qlen + 2 + strlen(why);
    char *m = vx_arena_alloc(a, len + 1);
    if (!m)
        return NULL;
    size_t o = (size_t)snprintf(m, len + 1, "strconv.%s: parsing ", fn);
    vx_go_quote(s, n, m + o, qlen + 1);
    snprintf(m + o + qlen, len + 1 - o - qlen, ": %s", why);
    return m;
}

/* strconv.ParseInt(s, 10, 64): 0 ok, 1 syntax error, 2 out of range. */
static int go_parse_int(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n && (s[0] == '+' || s[0] == '-'))
        neg = s[0] == '-', i = 1;
    if (i == n)
        return 1;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (!digit((uint8_t)s[i]))
            return 1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 2;
        v = v * 10 + d;
    }
    if ((!neg && v > (uint64_t)INT64_MAX) || (neg && v > (uint64_t)INT64_MAX + 1))
        return 2;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* strconv.ParseFloat(s, 64) for DOUBLE tokens (always well formed): false
 * on overflow, as Go's ErrRange. */
static bool go_parse_float(vx_arena *a, const char *s, size_t n, double *out)
{
    char *buf = vx_arena_strndup(a, s, n);
    if (!buf)
        return false;
    char *end;
    double f = strtod(buf, &end);
    if (*end) {
        /* A host locale with another decimal point. */
        char *dot = strchr(buf, '.');
        if (dot)
            *dot = localeconv()->decimal_point[0];
        f = strtod(buf, &end);
    }
    *out = f;
    return !isinf(f);
}

/* ---- From parse tree to AST -------------------------------------------- */

typedef struct vx_qcompiler {
    vx_arena *out;
    vx_arena *scratch;
    bool oom;
} vx_qcompiler;

static bool is_query(const vx_pnode *n)
{
    return n->kind <= PN_COMPARE;
}

static bool is_value(const vx_pnode *n)
{
    return n->kind >= PN_VALUE && n->kind <= PN_LISTOF_STRINGS;
}

/* The i-th child a generated getter accepts (nil when there is none). */
static const vx_pnode *kid(const vx_pnode *n, bool (*want)(const vx_pnode *), int kind, uint32_t i)
{
    for (uint32_t k = 0; n && k < n->nkids; k++) {
        const vx_pnode *c = n->kids[k];
        if ((want ? want(c) : c->kind == kind) && i-- == 0)
            return c;
    }
    return NULL;
}

/* GetToken(type, 0): terminals and error nodes alike. */
static const vx_qtok *token(const vx_pnode *n, int type)
{
    for (uint32_t k = 0; n && k < n->nkids; k++) {
        const vx_pnode *c = n->kids[k];
        if (c->kind >= PN_TERMINAL && c->tok->type == type)
            return c->tok;
    }
    return NULL;
}

static size_t text_of(const vx_pnode *n, char *out, size_t o)
{
    for (uint32_t k = 0; k < n->nkids; k++) {
        const vx_pnode *c = n->kids[k];
        if (c->kind >= PN_TERMINAL) {
            if (out)
                memcpy(out + o, c->tok->text, c->tok->len);
            o += c->tok->len;
        } else {
            o = text_of(c, out, o);
        }
    }
    return o;
}

/* GetText(): every token under the node, concatenated. */
static vx_qstr node_text(vx_qcompiler *c, const vx_pnode *n)
{
    size_t len = text_of(n, NULL, 0);
    char *s = vx_arena_alloc(c->scratch, len + 1);
    if (!s) {
        c->oom = true;
        return (vx_qstr){"", 0};
    }
    text_of(n, s, 0);
    return (vx_qstr){s, (uint32_t)len};
}

static vx_qstr keep(vx_qcompiler *c, const char *s, size_t n)
{
    char *k = vx_arena_strndup(c->out, s, n);
    if (!k)
        c->oom = true;
    return (vx_qstr){k ? k : "", k ? (uint32_t)n : 0};
}

/* The visitor's getString: the token minus its first and last byte. */
static vx_qstr unquote(vx_qcompiler *c, vx_qstr t)
{
    return t.len > 2 ? keep(c, t.s + 1, t.len - 2) : keep(c, "", 0);
}

static bool prepare_lower(vx_qcompiler *c, vx_qlit *lit)
{
    const uint8_t *s = (const uint8_t *)lit->str.s;
    size_t n = vx_qlower_into(s, lit->str.len, NULL, 0);
    uint8_t *low = vx_arena_alloc(c->out, n + 1);
    int32_t *kmp = vx_arena_alloc(c->out, (n + 1) * sizeof(int32_t));
    if (!low || !kmp)
        return false;
    vx_qlower_into(s, lit->str.len, low, n + 1);
    lit->low.s = low;
    lit->low.len = (uint32_t)n;
    lit->low.ascii = true;
    for (size_t i = 0; i < n; i++)
        lit->low.ascii &= low[i] < 0x80;
    /* Failure function for a streaming substring search. */
    kmp[0] = 0;
    for (size_t i = 1, k = 0; i < n; i++) {
        while (k && low[i] != low[k])
            k = (size_t)kmp[k - 1];
        if (low[i] == low[k])
            k++;
        kmp[i] = (int32_t)k;
    }
    lit->low.kmp = kmp;
    return true;
}

static bool compile_long(vx_qcompiler *c, vx_qlit *lit, vx_qstr t)
{
    lit->cls = VX_QC_INT;
    int rc = go_parse_int(t.s, t.len, &lit->i);
    lit->ok = rc == 0;
    if (rc)
        lit->error = num_error(c->out, "ParseInt", t.s, t.len, rc == 2);
    return rc == 0 || lit->error;
}

static vx_qrtag list_tag(int elem)
{
    return elem == VX_T_INT ? VX_QR_LIST_INT : elem == VX_T_DOUBLE ? VX_QR_LIST_FLOAT
                                                                  : VX_QR_LIST_STRING;
}

/* One element the visitor appends; false ends the walk (lit->end says why). */
static bool list_element(vx_qcompiler *c, vx_qlit *lit, const vx_qtok *t, uint32_t k,
                         bool store)
{
    if (!t) {
        lit->end = VX_QL_PANIC;
        return false;
    }
    if (lit->elem == VX_QR_LIST_STRING) {
        if (store)
            ((vx_qstr *)lit->strs)[k] = unquote(c, (vx_qstr){t->text, t->len});
        return true;
    }
    if (lit->elem == VX_QR_LIST_INT) {
        int64_t v = 0;
        int rc = go_parse_int(t->text, t->len, &v);
        if (rc && store && !lit->error) {
            lit->end = VX_QL_PARSE_ERROR;
            lit->error = num_error(c->out, "ParseInt", t->text, t->len, rc == 2);
            c->oom |= !lit->error;
        }
        if (!rc && store)
            ((int64_t *)lit->ints)[k] = v;
        return rc == 0;
    }
    double f = 0;
    bool ok = go_parse_float(c->scratch, t->text, t->len, &f);
    if (!ok && store && !lit->error) {
        lit->end = VX_QL_PARSE_ERROR;
        lit->error = num_error(c->out, "ParseFloat", t->text, t->len, true);
        c->oom |= !lit->error;
    }
    if (ok && store)
        ((double *)lit->floats)[k] = f;
    return ok;
}

static uint32_t walk_list(vx_qcompiler *c, vx_qlit *lit, const vx_pnode *sub, int elem,
                          int sub_kind, bool store)
{
    uint32_t k = 0;
    for (; sub; sub = kid(sub, NULL, sub_kind, 0), k++)
        if (!list_element(c, lit, token(sub, elem), k, store))
            return k;
    lit->end = VX_QL_END;
    return k;
}

static const vx_qlit *compile_list(vx_qcompiler *c, vx_qlit *lit, const vx_pnode *n, int elem)
{
    int off = elem == VX_T_INT ? 0 : elem == VX_T_DOUBLE ? 1 : 2;
    const vx_pnode *list = kid(n, NULL, PN_LIST_INTS + off, 0);
    const vx_pnode *sub = kid(list, NULL, PN_SUB_INTS + off, 0);
    if (!sub)
        return NULL;
    lit->kind = VX_QV_LIST;
    lit->cls = off == 0 ? VX_QC_INT : off == 1 ? VX_QC_FLOAT : VX_QC_STRING;
    lit->elem = (uint8_t)list_tag(elem);
    uint32_t n_ok = walk_list(c, lit, sub, elem, PN_SUB_INTS + off, false);
    size_t size = off == 0 ? sizeof(int64_t) : off == 1 ? sizeof(double) : sizeof(vx_qstr);
    void *items = vx_arena_alloc(c->out, (n_ok + 1) * size);
    if (!items) {
        c->oom = true;
        return NULL;
    }
    lit->ints = items, lit->floats = items, lit->strs = items;
    lit->count = walk_list(c, lit, sub, elem, PN_SUB_INTS + off, true);
    return lit;
}

static const vx_qlit *compile_value(vx_qcompiler *c, const vx_pnode *n)
{
    if (!n || n->kind == PN_VALUE)
        return NULL;
    vx_qlit *lit = vx_arena_alloc(c->out, sizeof(*lit));
    if (!lit) {
        c->oom = true;
        return NULL;
    }
    vx_qstr t = node_text(c, n);
    switch (n->kind) {
    case PN_BOOLEAN:
        /* Only ever the token true or false. */
        lit->kind = VX_QV_BOOL, lit->cls = VX_QC_BOOL;
        lit->b = t.len == 4;
        return lit;
    case PN_NULL:
        lit->kind = VX_QV_NULL, lit->cls = VX_QC_NULL;
        return lit;
    case PN_VERSION: {
        const vx_qtok *v = token(n, VX_T_VERSION);
        if (!v)
            return NULL;
        lit->kind = VX_QV_VERSION, lit->cls = VX_QC_VERSION;
        lit->str = keep(c, v->text, v->len);
        lit->ok = vx_semver_parse(lit->str.s, lit->str.len, &lit->ver);
        return lit;
    }
    case PN_STRING:
        lit->kind = VX_QV_STRING, lit->cls = VX_QC_STRING;
        lit->str = unquote(c, t);
        c->oom |= !prepare_lower(c, lit);
        return lit;
    case PN_DOUBLE:
        lit->kind = VX_QV_DOUBLE, lit->cls = VX_QC_FLOAT;
        lit->ok = go_parse_float(c->scratch, t.s, t.len, &lit->f);
        return lit;
    case PN_LONG:
        lit->kind = VX_QV_LONG;
        c->oom |= !compile_long(c, lit, t);
        return lit;
    case PN_LISTOF_INTS:
        return compile_list(c, lit, n, VX_T_INT);
    case PN_LISTOF_DOUBLES:
        return compile_list(c, lit, n, VX_T_DOUBLE);
    default:
        return compile_list(c, lit, n, VX_T_STRING);
    }
}

/* The AttrPath under a segment's SubAttr; *broken when the SubAttr is empty. */
static const vx_pnode *next_segment(const vx_pnode *a, bool *broken)
{
    const vx_pnode *sub = kid(a, NULL, PN_SUBATTR, 0);
    const vx_pnode *next = kid(sub, NULL, PN_ATTRPATH, 0);
    *broken = sub && !next;
    return next;
}

/* The dotted attribute path, or false when the visitor would dereference a
 * missing name or segment (the parser never builds such a path). */
static bool compile_path(vx_qcompiler *c, const vx_pnode *ap, vx_path *path)
{
    size_t len = 0;
    bool broken = !ap;
    for (const vx_pnode *a = ap; a && !broken; a = next_segment(a, &broken)) {
        const vx_qtok *name = token(a, VX_T_ATTRNAME);
        if (!name)
            return false;
        len += name->len + 1;
    }
    if (broken)
        return false;
    char *text = vx_arena_alloc(c->scratch, len);
    if (!text) {
        c->oom = true;
        return false;
    }
    size_t o = 0;
    for (const vx_pnode *a = ap; a; a = next_segment(a, &broken)) {
        const vx_qtok *name = token(a, VX_T_ATTRNAME);
        memcpy(text + o, name->text, name->len);
        o += name->len;
        text[o++] = '.';
    }
    c->oom |= !vx_path_compile(c->out, text, o - 1, path);
    return true;
}

static vx_qnode *new_qnode(vx_qcompiler *c, vx_qnode_kind kind)
{
    vx_qnode *q = vx_arena_alloc(c->out, sizeof(*q));
    if (!q)
        c->oom = true;
    else
        q->kind = (uint8_t)kind;
    return q;
}

static const vx_qnode *compile_query(vx_qcompiler *c, const vx_pnode *n);

/* a op1 b op2 c, nested to the left in the tree, becomes one flat chain. */
static const vx_qnode *compile_chain(vx_qcompiler *c, const vx_pnode *n)
{
    uint32_t count = 0;
    const vx_pnode *leftmost = n;
    while (leftmost && leftmost->kind == PN_LOGICAL) {
        count++;
        leftmost = kid(leftmost, is_query, 0, 0);
    }
    vx_qnode *q = new_qnode(c, VX_QN_CHAIN);
    vx_qlink *links = vx_arena_alloc(c->out, count * sizeof(*links));
    if (!q || !links) {
        c->oom = true;
        return NULL;
    }
    q->first = compile_query(c, leftmost);
    q->links = links;
    q->nlinks = count;
    uint32_t k = count;
    for (const vx_pnode *l = n; l && l->kind == PN_LOGICAL; l = kid(l, is_query, 0, 0)) {
        const vx_qtok *op = token(l, VX_T_LOGICAL);
        vx_qlink *link = &links[--k];
        link->op = !op ? VX_QL_NIL : (op->len == 2 && memcmp(op->text, "or", 2) == 0) ? VX_QL_OR
                                                                                       : VX_QL_AND;
        link->right = compile_query(c, kid(l, is_query, 0, 1));
    }
    return q;
}

static const vx_qnode *compile_query(vx_qcompiler *c, const vx_pnode *n)
{
    if (!n || c->oom)
        return NULL;
    vx_qnode *q;
    switch (n->kind) {
    case PN_PAREN:
        if (!(q = new_qnode(c, VX_QN_PAREN)))
            return NULL;
        q->negate = token(n, VX_T_NOT) != NULL;
        q->inner = compile_query(c, kid(n, is_query, 0, 0));
        return q;
    case PN_LOGICAL:
        return compile_chain(c, n);
    case PN_PRESENT:
    case PN_COMPARE:
        if (!(q = new_qnode(c, n->kind == PN_PRESENT ? VX_QN_PRESENT : VX_QN_COMPARE)))
            return NULL;
        if (!compile_path(c, kid(n, NULL, PN_ATTRPATH, 0), &q->path))
            q->path.count = 0; /* the visitor dereferences nil */
        if (n->kind == PN_COMPARE) {
            q->op = n->tok ? (uint8_t)n->tok->type : 0;
            q->value = compile_value(c, kid(n, is_value, 0, 0));
        }
        return q;
    default:
        return NULL; /* a bare query context: Accept dereferences nil */
    }
}

/* ---- Entry points --------------------------------------------------------- */

static vx_pnode *parse_tree(vx_arena *scratch, const char *text, size_t len, const char **fatal)
{
    vx_qparser p = {0};
    p.a = scratch;
    p.toks = tokenize(scratch, text, len, &p.ntok);
    if (!p.toks) {
        *fatal = "out of memory";
        return NULL;
    }
    p.state = -1;
    p.last_error_index = -1;
    vx_pnode *root = rule_query(&p, 0);
    *fatal = p.fatal;
    return p.fatal ? NULL : root;
}

static void set_err(char *err, size_t errcap, const char *msg)
{
    if (err && errcap)
        snprintf(err, errcap, "%s", msg);
}

const vx_qnode *vx_qparse(vx_arena *arena, const char *text, size_t len, char *err, size_t errcap)
{
    if (len > VX_QUERY_MAX_LEN) {
        set_err(err, errcap, "query too long");
        return NULL;
    }
    vx_arena scratch;
    vx_arena_init(&scratch);
    const char *fatal = NULL;
    vx_pnode *root = parse_tree(&scratch, text, len, &fatal);
    const vx_qnode *q = NULL;
    if (root && root->kind == PN_QUERY) {
        fatal = "Invalid rule";
    } else if (root) {
        vx_qcompiler c = {arena, &scratch, false};
        q = compile_query(&c, root);
        if (c.oom || !q)
            fatal = "out of memory", q = NULL;
    }
    if (!q)
        set_err(err, errcap, fatal ? fatal : "out of memory");
    vx_arena_free(&scratch);
    return q;
}

/* ---- Tree dump (tests) ----------------------------------------------------- */

static void dump_tok(char *out, size_t cap, size_t *o, const vx_qtok *t)
{
    static const char hexd[] = "0123456789abcdef";
    if (!t) {
        put(out, cap, o, "nil", 3);
        return;
    }
    char head[24];
    int k = snprintf(head, sizeof(head), "%d%s:", t->type, t->index < 0 ? "!" : "");
    put(out, cap, o, head, (size_t)k);
    for (uint32_t i = 0; i < t->len; i++) {
        char h[2] = {hexd[(uint8_t)t->text[i] >> 4], hexd[(uint8_t)t->text[i] & 15]};
        put(out, cap, o, h, 2);
    }
}

static void dump_node(const vx_pnode *n, char *out, size_t cap, size_t *o, int depth)
{
    if (depth > 4 * VX_MAX_DEPTH) {
        put(out, cap, o, "...", 3);
        return;
    }
    if (n->kind >= PN_TERMINAL) {
        put(out, cap, o, n->kind == PN_TERMINAL ? "T" : "E", 1);
        dump_tok(out, cap, o, n->tok);
        return;
    }
    const char *name = vx_pnames[n->kind];
    put(out, cap, o, name, strlen(name));
    if (n->kind == PN_COMPARE) {
        put(out, cap, o, "[", 1);
        dump_tok(out, cap, o, n->tok);
        put(out, cap, o, "]", 1);
    }
    put(out, cap, o, "(", 1);
    for (uint32_t k = 0; k < n->nkids; k++) {
        if (k)
            put(out, cap, o, " ", 1);
        dump_node(n->kids[k], out, cap, o, depth + 1);
    }
    put(out, cap, o, ")", 1);
}

size_t vx_qparse_dump(const char *text, size_t len, char *out, size_t cap)
{
    vx_arena scratch;
    vx_arena_init(&scratch);
    const char *fatal = NULL;
    vx_pnode *root = parse_tree(&scratch, text, len, &fatal);
    size_t o = 0;
    if (root)
        dump_node(root, out, cap, &o, 0);
    else
        put(out, cap, &o, fatal, strlen(fatal));
    if (cap)
        out[o < cap ? o : cap - 1] = '\0';
    vx_arena_free(&scratch);
    return o;
}
