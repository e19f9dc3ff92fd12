/* Internals shared by the JsonLogic compiler, evaluator and operators. The
 * library being reproduced (diegoholiveira/jsonlogic v3.10.1) re-reads runtime
 * values as rules in several places (if/set/missing, the var substitution
 * that filter/all/none/some perform), so the same compiler also runs at
 * evaluation time, into the scratch arena. */
#ifndef VX_JSONLOGIC_INTERNAL_H
#define VX_JSONLOGIC_INTERNAL_H

#include "jsonlogic.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The library's `-` and `/` without operands return a Go int 0, a type no
 * other operator accepts as a number: it needs its own tag. */
#define VXJ_GOINT 7

/* Runtime bounds against hostile rules, where Go would recurse or allocate on.
 * 300 levels keep the C stack near 100 KiB; loaded rules nest 256 at most. */
#define VXJ_MAX_EVAL_DEPTH 300
#define VXJ_MAX_STEPS ((uint64_t)1 << 22)
#define VXJ_MAX_SCRATCH ((size_t)64 << 20)

enum vxj_kind { VXJ_LIT, VXJ_ARRAY, VXJ_OBJ, VXJ_OP };

enum vxj_op {
    VXJ_OP_UNKNOWN,
    VXJ_OP_AND, VXJ_OP_OR, VXJ_OP_NOT, VXJ_OP_NOTNOT,
    VXJ_OP_EQ, VXJ_OP_NE, VXJ_OP_SEQ, VXJ_OP_SNE,
    VXJ_OP_LT, VXJ_OP_LE, VXJ_OP_GT, VXJ_OP_GE,
    VXJ_OP_IF, VXJ_OP_IN, VXJ_OP_CAT, VXJ_OP_SUBSTR, VXJ_OP_MERGE,
    VXJ_OP_VAR, VXJ_OP_MISSING, VXJ_OP_MISSING_SOME,
    VXJ_OP_ADD, VXJ_OP_SUB, VXJ_OP_MUL, VXJ_OP_DIV, VXJ_OP_MOD,
    VXJ_OP_MIN, VXJ_OP_MAX, VXJ_OP_ABS,
    VXJ_OP_FILTER, VXJ_OP_MAP, VXJ_OP_REDUCE, VXJ_OP_ALL, VXJ_OP_NONE, VXJ_OP_SOME,
    VXJ_OP_SET, VXJ_OP_CONTAINS_ALL, VXJ_OP_CONTAINS_ANY, VXJ_OP_CONTAINS_NONE,
    VXJ_OP_COUNT
};

/* One part of a var path: a map key, and what it means as an array index
 * (strconv.ParseFloat then int(), decided once). */
typedef struct vxj_seg {
    const char *name;
    uint32_t len, hash;
    bool index_ok;
    int64_t index;
} vxj_seg;

typedef struct vxj_path {
    const vxj_seg *segs;
    uint32_t count;
} vxj_path;

/* How a var's operand was resolved at load time. */
enum vxj_var_form {
    VXJ_VAR_DYNAMIC = 0,  /* computed operand: decided per call */
    VXJ_VAR_NULL,         /* {"var": null} */
    VXJ_VAR_PATH,         /* string or number: a fixed path */
    VXJ_VAR_ARRAY         /* [path-string, default?, ...]: elements still evaluated */
};

typedef struct vxj_node vxj_node;

typedef struct vxj_var {
    uint8_t form;
    vxj_path path;       /* count 0: the whole data */
} vxj_var;

struct vxj_node {
    uint8_t kind;          /* vxj_kind */
    uint8_t op;            /* vxj_op, for VXJ_OP */
    bool is_const;         /* evaluates to raw as is (no operator inside) */
    bool has_subst;        /* holds a var that filter/all/none/some may replace */
    uint32_t count;        /* ARRAY items, OBJ members */
    const vx_value *raw;   /* the JSON this node was compiled from */
    const vxj_node *arg;   /* OP: its operand */
    const vxj_node *const *kids; /* ARRAY items, OBJ member values */
    const vxj_var *var;    /* OP var */
};

struct vx_jsonlogic {
    const vxj_node *root;
};

/* Evaluation state of one match. */
typedef struct vxj_state {
    vx_attrs *attrs;        /* NULL when data is a plain value */
    vx_arena *scratch;
    vx_value top;           /* materialized attributes */
    bool top_ready;
    int depth;
    uint64_t steps;
    const char *err;        /* set once: the evaluation failed */
} vxj_state;

/* Stands for the whole attribute view before it is materialized. */
extern const vx_value vxj_top;

/* ---- compile (jsonlogic_compile.c) ---- */
int vxj_op_lookup(const char *name, size_t len);

/* Compilation limits: at load they are unbounded; at evaluation time they
 * come from the evaluation's step and scratch budgets. */
typedef struct vxj_compiler {
    vx_arena *arena;
    uint64_t nodes_left;
    size_t arena_cap;     /* fail once arena->total passes this */
    const char *err;
} vxj_compiler;

/* NULL with c->err set on failure (too deep, over budget, out of memory). */
const vxj_node *vxj_compile_value(vxj_compiler *c, const vx_value *raw, int depth);

/* ---- evaluation core (jsonlogic_eval.c) ---- */
bool vxj_fail(vxj_state *st, const char *msg);
void *vxj_alloc(vxj_state *st, size_t size);
bool vxj_step(vxj_state *st, uint64_t n);
bool vxj_eval(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out);
/* parseValues(values): small arrays go to buf, which must not outlive the call. */
bool vxj_eval_args(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *buf,
                   uint32_t cap, vx_value *out);
/* apply() on a runtime map and parseValues() on a runtime value. */
bool vxj_apply_value(vxj_state *st, const vx_value *m, const vx_value *data, vx_value *out);
bool vxj_reparse(vxj_state *st, const vx_value *v, const vx_value *data, vx_value *out);
/* apply() on a node: the node must stand for a map. */
bool vxj_apply_node(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out);
/* The library's getVar with an unevaluated operand node, and with an evaluated value. */
bool vxj_op_var(vxj_state *st, const vxj_node *arg, const vxj_var *var, const vx_value *data,
                vx_value *out);
bool vxj_getvar_value(vxj_state *st, const vx_value *values, const vx_value *data,
                      vx_value *out);
/* solveVars: *out is n itself when nothing was replaced. */
bool vxj_solve(vxj_state *st, const vxj_node *n, const vx_value *data, const vxj_node **out);
bool vxj_resolve_data(vxj_state *st, const vx_value *data, vx_value *out);

/* solveVars leaves {"var": ""} and {"var": ".x"} alone and evaluates the rest. */
static inline bool vxj_substitutable(const vx_value *var_operand)
{
    return !(var_operand->type == VX_STRING &&
             (var_operand->len == 0 || var_operand->u.s[0] == '.'));
}

/* ---- operators (jsonlogic_ops.c) ---- */
typedef bool (*vxj_op_fn)(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out);
extern const vxj_op_fn vxj_ops[VXJ_OP_COUNT];

/* ---- Go value semantics (jsonlogic_go.c) ---- */
bool vxj_truthy(const vx_value *v);              /* javascript.IsTrue */
/* GOFF: the JSON encoding of v is false/null/""/0/[]. *unencodable when it holds NaN or an infinity. */
bool vxj_goff_truthy(const vx_value *v, bool *unencodable);
bool vxj_is_primitive(const vx_value *v);        /* bool, number, string */
double vxj_js_number(const vx_value *v);         /* javascript.ToNumber */
bool vxj_to_number(vxj_state *st, const vx_value *v, double *out);   /* toNumber */
bool vxj_to_string(vxj_state *st, const vx_value *v, vx_value *out); /* toString */
int64_t vxj_go_int(double f);                    /* int(f) on amd64 */
/* Go's interface ==: fails on two arrays or two maps (uncomparable). */
bool vxj_iface_eq(vxj_state *st, const vx_value *a, const vx_value *b, bool *eq);
bool vxj_str_eq(vxj_state *st, const vx_value *a, const vx_value *b, bool *eq);
bool vxj_str_less(vxj_state *st, const vx_value *a, const vx_value *b, bool *lt);
/* The string as Go holds it: invalid UTF-8 bytes replaced by U+FFFD. */
bool vxj_clean(vxj_state *st, const vx_value *s, vx_value *out);
bool vxj_utf8_valid(const char *s, size_t n);
size_t vxj_trim_space(const char *s, size_t n, size_t *start);
bool vxj_is_blank(const char *s, size_t n);

/* strconv.ParseFloat(s, 64): 0 ok, 1 syntax error (value 0), 2 out of range (±Inf). */
int vxj_parse_float(const char *s, size_t n, double *out);
/* Shortest round-trip digits of finite nonzero |f|: count, and the exponent of the first digit. */
int vxj_shortest(double f, char digits[32], int *exp10);
/* strconv.FormatFloat(f, 'f', -1, 64); buf holds VXJ_FMT_MAX bytes. */
#define VXJ_FMT_MAX 400
size_t vxj_format_f(double f, char *buf);

/* For tests: the library's Apply against plain data (attrs NULL) or the
 * attribute view (data NULL). *out lives in scratch; false on an apply error. */
bool vxj_apply(const vx_jsonlogic *rule, const vx_value *data, vx_attrs *attrs,
               vx_arena *scratch, vx_value *out, const char **err);

#endif
