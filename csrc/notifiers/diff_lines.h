/* What the chat notifiers (Slack, Discord, Microsoft Teams) say about a
 * configuration change, shared: the deleted, added and updated flag keys,
 * sorted, and for each updated flag GOFF's field-level change lines.
 *
 * A line is GOFF's: the path of the changed field as GOFF names it (Go's
 * struct fields joined by '.': "Variations.True", "DefaultRule.Percentages",
 * "Rules.0.Query", "Disable") and "<before> => <after>". Where GOFF renders
 * the values as Go syntax ("(*bool)(true)", "nil"), vexil writes JSON
 * ("true", "null"): the README says so. A field present on one side only is
 * a change from or to null (GOFF lists those for struct fields only). Lines
 * are sorted by path. Text is UTF-8; "<", ">" and "&" are written as such
 * (a service escapes them as it needs). */
#ifndef VX_NOTIFIERS_DIFF_LINES_H
#define VX_NOTIFIERS_DIFF_LINES_H

#include "buf.h"
#include "vexil.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct vx_diff_line {
    char *path;   /* "Variations.True" */
    char *text;   /* "true => \"strTrue\"" */
} vx_diff_line;

typedef struct vx_flag_change {
    const char *key;          /* borrowed from the notification */
    vx_diff_line *lines;      /* updated flags only */
    size_t n_lines;
} vx_flag_change;

typedef struct vx_diff_lines {
    vx_flag_change *deleted, *added, *updated;
    size_t n_deleted, n_added, n_updated;
} vx_diff_lines;

/* The changes of a CONFIG_CHANGED notification; false when out of memory
 * (or the notification carries no diff). Free with vx_diff_lines_free. */
bool vx_diff_lines_build(const vx_notification *n, vx_diff_lines *out);
void vx_diff_lines_free(vx_diff_lines *d);
size_t vx_diff_lines_count(const vx_diff_lines *d); /* flags changed */

/* GOFF's "short" (Slack) / "inline" (Discord) rule: the text is under 35 bytes. */
static inline bool vx_diff_line_short(const vx_diff_line *l)
{
    return l->text && __builtin_strlen(l->text) < 35;
}

/* ---- text limits, shared by the services ---------------------------------- */

/* Length in UTF-16 code units (what chat services count as characters; a
 * code point above U+FFFF counts two). */
size_t vx_text_units(const char *s, size_t len);
/* Appends s to b cut to at most `max` units, the cut marked with an
 * ellipsis (counted in max); cuts fall on code point boundaries. */
void vx_text_put_cut(vx_buf *b, const char *s, size_t max);
/* The host name as GOFF writes it (os.Hostname()); "" when unknown. */
const char *vx_text_hostname(char *buf, size_t cap);

#endif
