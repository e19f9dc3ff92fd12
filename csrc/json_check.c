/* A strict JSON syntax check run before cJSON: cJSON is lenient where Go's
 * decoder is not (control characters as whitespace, "01", "1.", "-"), and
 * GOFF rejects a flag file Go cannot decode. Messages follow Go's scanner
 * ("invalid character 'x' looking for beginning of value"). */
#include "json_check.h"

#include <stdio.h>
#include <string.h>

typedef struct checker {
    const unsigned char *p, *end, *start;
    const char *err;        /* Go's message template, %s = the character */
    const unsigned char *at;
    char expect;            /* the letter a literal needed, for Go's message */
    bool too_deep;
} checker;

static bool fail(checker *c, const unsigned char *at, const char *what)
{
    c->at = at;
    c->err = what;
    return false;
}

static void skip_ws(checker *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static bool check_value(checker *c, int depth);

static bool check_literal(checker *c, const char *word, const char *what)
{
    size_t n = strlen(word);
    for (size_t i = 0; i < n; i++) {
        if (c->p + i >= c->end)
            return fail(c, c->end, NULL);
        if (c->p[i] != (unsigned char)word[i]) {
            c->expect = word[i];
            return fail(c, c->p + i, what);
        }
    }
    c->p += n;
    return true;
}

static bool is_digit(unsigned char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool check_digits(checker *c, const char *what)
{
    if (c->p >= c->end)
        return fail(c, c->end, NULL);
    if (!is_digit(*c->p))
        return fail(c, c->p, what);
    while (c->p < c->end && is_digit(*c->p))
        c->p++;
    return true;
}

static bool check_number(checker *c)
{
    if (*c->p == '-') {
        c->p++;
        if (c->p >= c->end)
            return fail(c, c->end, NULL);
        if (!is_digit(*c->p))
            return fail(c, c->p, "invalid character %s in numeric literal");
    }
    if (*c->p == '0')
        c->p++;
    else if (!check_digits(c, "invalid character %s in numeric literal"))
        return false;
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (!check_digits(c, "invalid character %s after decimal point in numeric literal"))
            return false;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (!check_digits(c, "invalid character %s in exponent of numeric literal"))
            return false;
    }
    return true;
}

static bool is_hex(unsigned char ch)
{
    return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static bool check_string(checker *c)
{
    c->p++; /* opening quote */
    while (c->p < c->end) {
        unsigned char ch = *c->p;
        if (ch == '"') {
            c->p++;
            return true;
        }
        if (ch < 0x20)
            return fail(c, c->p, "invalid character %s in string literal");
        if (ch != '\\') {
            c->p++;
            continue;
        }
        c->p++;
        if (c->p >= c->end)
            break;
        ch = *c->p;
        if (ch == 'u') {
            c->p++;
            for (int i = 0; i < 4; i++, c->p++) {
                if (c->p >= c->end)
                    return fail(c, c->end, NULL);
                if (!is_hex(*c->p))
                    return fail(c, c->p, "invalid character %s in \\u hexadecimal character escape");
            }
            continue;
        }
        if (!strchr("\"\\/bfnrt", ch) || ch == 0)
            return fail(c, c->p, "invalid character %s in string escape code");
        c->p++;
    }
    return fail(c, c->end, NULL);
}

static bool check_object(checker *c, int depth)
{
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return true;
    }
    for (;;) {
        skip_ws(c);
        if (c->p >= c->end)
            return fail(c, c->end, NULL);
        if (*c->p != '"')
            return fail(c, c->p, "invalid character %s looking for beginning of object key string");
        if (!check_string(c))
            return false;
        skip_ws(c);
        if (c->p >= c->end)
            return fail(c, c->end, NULL);
        if (*c->p != ':')
            return fail(c, c->p, "invalid character %s after object key");
        c->p++;
        if (!check_value(c, depth + 1))
            return false;
        skip_ws(c);
        if (c->p >= c->end)
            return fail(c, c->end, NULL);
        if (*c->p == '}') {
            c->p++;
            return true;
        }
        if (*c->p != ',')
            return fail(c, c->p, "invalid character %s after object key:value pair");
        c->p++;
    }
}

static bool check_array(checker *c, int depth)
{
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return true;
    }
    for (;;) {
        if (!check_value(c, depth + 1))
            return false;
        skip_ws(c);
        if (c->p >= c->end)
            return fail(c, c->end, NULL);
        if (*c->p == ']') {
            c->p++;
            return true;
        }
        if (*c->p != ',')
            return fail(c, c->p, "invalid character %s after array element");
        c->p++;
    }
}

static bool too_deep(checker *c)
{
    c->too_deep = true;
    return fail(c, c->p, "JSON nests deeper than 256 levels");
}

/* `depth` counts containers, as the document builder does. */
static bool check_value(checker *c, int depth)
{
    skip_ws(c);
    if (c->p >= c->end)
        return fail(c, c->end, NULL);
    switch (*c->p) {
    case '{':
        return depth > VX_MAX_DEPTH ? too_deep(c) : check_object(c, depth);
    case '[':
        return depth > VX_MAX_DEPTH ? too_deep(c) : check_array(c, depth);
    case '"':
        return check_string(c);
    case 't':
        return check_literal(c, "true", "invalid character %s in literal true (expecting '%c')");
    case 'f':
        return check_literal(c, "false", "invalid character %s in literal false (expecting '%c')");
    case 'n':
        return check_literal(c, "null", "invalid character %s in literal null (expecting '%c')");
    default:
        if (*c->p == '-' || is_digit(*c->p))
            return check_number(c);
        return fail(c, c->p, "invalid character %s looking for beginning of value");
    }
}

/* Go's quoteChar: 'x', '\'' for a quote, '\x01' for control bytes. */
static void quote_char(unsigned char ch, char *out, size_t cap)
{
    if (ch == '\'')
        snprintf(out, cap, "'\\''");
    else if (ch == '"')
        snprintf(out, cap, "'\"'");
    else if (ch == '\n')
        snprintf(out, cap, "'\\n'");
    else if (ch == '\r')
        snprintf(out, cap, "'\\r'");
    else if (ch == '\t')
        snprintf(out, cap, "'\\t'");
    else if (ch < 0x20 || ch == 0x7f)
        snprintf(out, cap, "'\\x%02x'", ch);
    else if (ch >= 0x80)
        snprintf(out, cap, "'\\u00%02x'", ch); /* approximates Go for non-ASCII */
    else
        snprintf(out, cap, "'%c'", ch);
}

bool vx_json_check(const char *text, size_t len, vx_json_check_result *out)
{
    checker c = {(const unsigned char *)text, (const unsigned char *)text + len,
                 (const unsigned char *)text, NULL, NULL, 0, false};
    bool ok = check_value(&c, 1);
    if (ok) {
        skip_ws(&c);
        if (c.p < c.end)
            ok = fail(&c, c.p, "invalid character %s after top-level value");
    }
    if (ok)
        return true;
    out->offset = (size_t)(c.at - c.start);
    out->too_deep = c.too_deep;
    if (!c.err) {
        snprintf(out->message, sizeof out->message, "unexpected end of JSON input");
    } else {
        char q[16];
        quote_char(c.at < c.end ? *c.at : 0, q, sizeof q);
        /* Templates use one %s, literals also a %c. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
        snprintf(out->message, sizeof out->message, c.err, q, c.expect);
#pragma GCC diagnostic pop
    }
    return false;
}
