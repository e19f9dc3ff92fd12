/* Evaluation of compiled nikunjy/rules queries: a replay of the Go visitor
 * (parser/jsonquery_visitor_impl.go and the *_operation.go files).
 *
 * The visitor keeps state across the comparisons of one Process call and the
 * results depend on it, so it is kept here too:
 *  - leftOp is only assigned when an attribute path reaches its last segment
 *    through objects; a path through a missing or null object leaves the
 *    previous comparison's operand in place;
 *  - the object stack used to walk dotted paths is not cleared on those early
 *    returns, so a later path can start from a leftover nested object;
 *  - rightOp survives a comparison skipped because of an earlier error, and
 *    a later list literal then fails a type assertion (a panic);
 *  - after an error every later comparison is false, yet operands are still
 *    visited and can still panic, which changes the error reported.
 * Numbers are Go int at the top level of the context and float64 inside
 * objects, as GOFF converts JSON contexts. */
#include "query_ast.h"
#include "hot.h"

#include "unicode_lower.h"
#include "value.h"

#include <stdio.h>
#include <string.h>

/* ---- Go's strings.ToLower as a byte stream ------------------------------ */

typedef struct vx_lstream {
    const uint8_t *s;
    size_t n, i;
    uint8_t buf[4];
    uint8_t blen, bpos;
} vx_lstream;

static int ls_next(vx_lstream *ls)
{
    if (ls->bpos < ls->blen)
        return ls->buf[ls->bpos++];
    if (ls->i >= ls->n)
        return -1;
    uint8_t c = ls->s[ls->i];
    if (c < 0x80) {
        ls->i++;
        return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    }
    /* Invalid bytes decode as U+FFFD and are written as such, like Go. */
    uint32_t r;
    ls->i += vx_utf8_decode(ls->s + ls->i, ls->n - ls->i, &r);
    ls->blen = (uint8_t)vx_utf8_encode(vx_unicode_to_lower(r), ls->buf);
    ls->bpos = 1;
    return ls->buf[0];
}

static vx_lstream ls_open(const uint8_t *s, size_t n)
{
    vx_lstream ls = {s, n, 0, {0}, 0, 0};
    return ls;
}

size_t vx_qlower_into(const uint8_t *s, size_t n, uint8_t *out, size_t cap)
{
    vx_lstream ls = ls_open(s, n);
    size_t o = 0;
    for (int c; (c = ls_next(&ls)) >= 0; o++)
        if (o < cap)
            out[o] = (uint8_t)c;
    return o;
}

/* Eight bytes at a time: flag values and attributes are mostly ASCII, and
 * these loops run on every string comparison. No byte carries into the next
 * in the word arithmetic below, so byte order does not matter. */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static uint64_t load8(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* Lowers the letters of eight ASCII bytes: a byte has its high bit set after
 * adding 0x80 - 'A' when it is >= 'A', and after adding 0x80 - 'Z' - 1 when
 * it is > 'Z'; an upper-case letter gains 0x20. */
static uint64_t ascii_lower8(uint64_t w)
{
    uint64_t ge_a = w + ONES * (0x80 - 'A');
    uint64_t gt_z = w + ONES * (0x80 - 'Z' - 1);
    return w | ((ge_a & ~gt_z & HIGHS) >> 2);
}

static bool is_ascii(const uint8_t *s, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        if (load8(s + i) & HIGHS)
            return false;
    for (; i < n; i++)
        if (s[i] >= 0x80)
            return false;
    return true;
}

static uint8_t ascii_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* l: ASCII; r: already lowered. */
static bool ascii_lower_eq(const uint8_t *l, const uint8_t *r, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        if (ascii_lower8(load8(l + i)) != load8(r + i))
            return false;
    for (; i < n; i++)
        if (ascii_lower(l[i]) != r[i])
            return false;
    return true;
}

/* Lower(l) compared with r, bytewise like Go's string comparison. */
static int lower_cmp(const uint8_t *l, size_t ln, const vx_qlower *r)
{
    vx_lstream ls = ls_open(l, ln);
    for (size_t i = 0;; i++) {
        int c = ls_next(&ls);
        if (i == r->len)
            return c >= 0;
        if (c < 0)
            return -1;
        if (c != r->s[i])
            return c < r->s[i] ? -1 : 1;
    }
}

VX_HOT
static bool lower_eq(const uint8_t *l, size_t ln, const vx_qlower *r)
{
    if (is_ascii(l, ln))
        return ln == r->len && ascii_lower_eq(l, r->s, ln);
    return lower_cmp(l, ln, r) == 0;
}

/* An ASCII byte is a whole rune, so lowering an ASCII head or tail of l
 * gives the head or tail of lower(l) whatever the rest holds. */
static bool lower_has_prefix(const uint8_t *l, size_t ln, const vx_qlower *r)
{
    size_t m = r->len;
    if (ln >= m && is_ascii(l, m))
        return ascii_lower_eq(l, r->s, m);
    vx_lstream ls = ls_open(l, ln);
    for (size_t i = 0; i < m; i++)
        if (ls_next(&ls) != r->s[i])
            return false;
    return true;
}

static bool lower_has_suffix(const uint8_t *l, size_t ln, const vx_qlower *r)
{
    size_t m = r->len;
    if (ln >= m && is_ascii(l + ln - m, m))
        return ascii_lower_eq(l + ln - m, r->s, m);
    if (is_ascii(l, ln))
        return false;
    size_t total = vx_qlower_into(l, ln, NULL, 0);
    if (total < m)
        return false;
    vx_lstream ls = ls_open(l, ln);
    for (size_t i = 0; i < total - m; i++)
        ls_next(&ls);
    for (size_t i = 0; i < m; i++)
        if (ls_next(&ls) != r->s[i])
            return false;
    return true;
}

static bool lower_contains(const uint8_t *l, size_t ln, const vx_qlower *r)
{
    size_t m = r->len, k = 0;
    if (m == 0)
        return true;
    vx_lstream ls = ls_open(l, ln);
    for (int c; (c = ls_next(&ls)) >= 0;) {
        while (k && c != r->s[k])
            k = (size_t)r->kmp[k - 1];
        if (c == r->s[k] && ++k == m)
            return true;
    }
    return false;
}

/* ---- Visitor state ------------------------------------------------------ */

/* Leftover stack entries beyond this are forgotten, oldest first. Reaching
 * it takes over a hundred dotted paths through null objects in one query. */
#define VX_QSTACK 128

typedef enum vx_qpanic {
    VX_QP_NONE,
    VX_QP_NIL,          /* nil pointer dereference */
    VX_QP_CONVERSION    /* failed type assertion */
} vx_qpanic;

typedef struct vx_qvm {
    vx_attrs *attrs;        /* NULL: the empty map of the load-time check */
    const vx_value *left;   /* leftOp; NULL is nil */
    bool left_nested;
    uint8_t rtag;           /* rightOp's dynamic type */
    const vx_qlit *rlit;
    uint8_t cls;            /* currentOperation */
    const char *err;
    uint8_t panic;
    const char *panic_iface, *panic_have, *panic_want;
    uint32_t top, count;    /* ring of the object stack */
    const vx_value *stack[VX_QSTACK];
} vx_qvm;

static const char *const vx_rtag_names[] = {"<nil>", "bool", "string", "float64", "int",
                                            "[]int", "[]float64", "[]string"};

static void panic_nil(vx_qvm *vm)
{
    vm->panic = VX_QP_NIL;
}

/* The message names the static type asserted from: rightOp is declared as
 * parser.Operand, the path walk's item as interface {}. */
static void panic_conversion(vx_qvm *vm, const char *iface, const char *have, const char *want)
{
    vm->panic = VX_QP_CONVERSION;
    vm->panic_iface = iface;
    vm->panic_have = have;
    vm->panic_want = want;
}

static void set_error(vx_qvm *vm, const char *msg)
{
    vm->err = msg;
}

static void push(vx_qvm *vm, const vx_value *v)
{
    vm->top = (vm->top + 1) % VX_QSTACK;
    vm->stack[vm->top] = v;
    if (vm->count < VX_QSTACK)
        vm->count++;
}

static const vx_value *pop(vx_qvm *vm)
{
    const vx_value *v = vm->stack[vm->top];
    vm->top = (vm->top + VX_QSTACK - 1) % VX_QSTACK;
    vm->count--;
    return v;
}

static const char *go_type(const vx_value *v)
{
    switch (v->type) {
    case VX_BOOL: return "bool";
    case VX_INT: return "int";
    case VX_FLOAT: return "float64";
    case VX_STRING: return "string";
    default: return "[]interface {}";
    }
}

/* m[name]: JSON null reads as nil, like a missing key. */
VX_HOT
static const vx_value *lookup(vx_qvm *vm, const vx_value *obj, const vx_path_seg *seg)
{
    const vx_value *v;
    if (obj)
        v = vx_object_get_h(obj, seg->name, seg->len, seg->hash);
    else
        v = vm->attrs ? vx_attrs_get(vm->attrs, seg->name, seg->len, seg->hash) : NULL;
    return v && v->type != VX_NULL ? v : NULL;
}

/* VisitAttrPath over all segments: the last one pops the stack (or reads
 * the context when it is empty), the others peek and push. */
VX_HOT
static void visit_attr(vx_qvm *vm, const vx_path *path)
{
    if (path->count == 0) {
        panic_nil(vm);
        return;
    }
    for (uint32_t i = 0; i < path->count; i++) {
        bool leaf = i + 1 == path->count, root = vm->count == 0;
        const vx_value *item = NULL;
        if (!root) {
            item = leaf ? pop(vm) : vm->stack[vm->top];
            if (!item)
                return;
            if (item->type != VX_OBJECT) {
                panic_conversion(vm, "interface {}", go_type(item), "map[string]interface {}");
                return;
            }
        }
        const vx_value *v = lookup(vm, item, &path->segs[i]);
        if (!leaf) {
            push(vm, v);
            continue;
        }
        vm->left = v;
        vm->left_nested = !root;
        vm->count = 0;
    }
}

static void visit_list(vx_qvm *vm, const vx_qlit *lit)
{
    /* Strings read the element before asserting rightOp's type; numbers
     * assert first. */
    bool strings = lit->elem == VX_QR_LIST_STRING;
    if (strings && lit->count == 0 && lit->end == VX_QL_PANIC) {
        panic_nil(vm);
        return;
    }
    if (vm->rtag != VX_QR_NIL && vm->rtag != lit->elem) {
        panic_conversion(vm, "parser.Operand", vx_rtag_names[vm->rtag], vx_rtag_names[lit->elem]);
        return;
    }
    if (lit->end == VX_QL_PANIC) {
        panic_nil(vm);
        return;
    }
    vm->rtag = lit->elem;
    vm->rlit = lit;
    if (lit->end == VX_QL_PARSE_ERROR)
        set_error(vm, lit->error);
}

static void visit_value(vx_qvm *vm, const vx_qlit *lit)
{
    if (!lit) {
        panic_nil(vm);
        return;
    }
    vm->cls = lit->cls;
    vm->rlit = lit;
    switch (lit->kind) {
    case VX_QV_BOOL:
        vm->rtag = VX_QR_BOOL;
        break;
    case VX_QV_NULL:
        vm->rtag = VX_QR_NIL;
        break;
    case VX_QV_VERSION:
    case VX_QV_STRING:
        vm->rtag = VX_QR_STRING;
        break;
    case VX_QV_DOUBLE:
        vm->rtag = lit->ok ? VX_QR_FLOAT : VX_QR_NIL;
        break;
    case VX_QV_LONG:
        vm->rtag = lit->ok ? VX_QR_INT : VX_QR_NIL;
        if (!lit->ok)
            set_error(vm, lit->error);
        break;
    default:
        visit_list(vm, lit);
    }
}

/* ---- Operations, by the literal's class ----------------------------------- */

static const char vx_invalid_operation[] = "Invalid operation on the type";

static bool invalid_operation(vx_qvm *vm)
{
    set_error(vm, vx_invalid_operation);
    return false;
}

/* Go's int(f) on amd64: out-of-range values give the minimum int. */
static int64_t go_float_to_int(double f)
{
    if (f >= -9223372036854775808.0 && f < 9223372036854775808.0)
        return (int64_t)f;
    return INT64_MIN;
}

static bool to_int(const vx_value *v, int64_t *out)
{
    if (v->type == VX_INT)
        *out = v->u.i;
    else if (v->type == VX_FLOAT)
        *out = go_float_to_int(v->u.f);
    else
        return false;
    return true;
}

static bool compare_ints(int op, int64_t l, int64_t r)
{
    switch (op) {
    case VX_T_EQ: return l == r;
    case VX_T_NE: return l != r;
    case VX_T_GT: return l > r;
    case VX_T_LT: return l < r;
    case VX_T_GE: return l >= r;
    default: return l <= r;
    }
}

static bool compare_floats(int op, double l, double r)
{
    switch (op) {
    case VX_T_EQ: return l == r;
    case VX_T_NE: return l != r;
    case VX_T_GT: return l > r;
    case VX_T_LT: return l < r;
    case VX_T_GE: return l >= r;
    default: return l <= r;
    }
}

static bool compare_order(int op, int c)
{
    return compare_ints(op, c, 0);
}

static bool op_string(vx_qvm *vm, int op)
{
    const vx_value *l = vm->left;
    if (op == VX_T_IN) {
        if (!l || l->type != VX_STRING || vm->rtag != VX_QR_LIST_STRING)
            return false;
        for (uint32_t i = 0; i < vm->rlit->count; i++) {
            const vx_qstr *s = &vm->rlit->strs[i];
            if (s->len == l->len && memcmp(s->s, l->u.s, l->len) == 0)
                return true;
        }
        return false;
    }
    if (!l || l->type != VX_STRING || vm->rtag != VX_QR_STRING)
        return false;
    const uint8_t *s = (const uint8_t *)l->u.s;
    const vx_qlower *r = &vm->rlit->low;
    switch (op) {
    case VX_T_EQ: return lower_eq(s, l->len, r);
    case VX_T_NE: return !lower_eq(s, l->len, r);
    case VX_T_CO: return lower_contains(s, l->len, r);
    case VX_T_SW: return lower_has_prefix(s, l->len, r);
    case VX_T_EW: return lower_has_suffix(s, l->len, r);
    default: return compare_order(op, lower_cmp(s, l->len, r));
    }
}

static bool op_int(vx_qvm *vm, int op)
{
    const vx_value *l = vm->left;
    if (op == VX_T_CO || op == VX_T_SW || op == VX_T_EW)
        return invalid_operation(vm);
    if (op == VX_T_IN) {
        /* Only a Go int: top-level integers, not float64 from nested JSON. */
        if (!l || l->type != VX_INT || vm->left_nested || vm->rtag != VX_QR_LIST_INT)
            return false;
        for (uint32_t i = 0; i < vm->rlit->count; i++)
            if (vm->rlit->ints[i] == l->u.i)
                return true;
        return false;
    }
    int64_t li;
    if (!l || !to_int(l, &li) || vm->rtag != VX_QR_INT)
        return false;
    return compare_ints(op, li, vm->rlit->i);
}

static bool op_float(vx_qvm *vm, int op)
{
    const vx_value *l = vm->left;
    if (op == VX_T_CO || op == VX_T_SW || op == VX_T_EW)
        return invalid_operation(vm);
    if (!l || !vx_is_number(l))
        return false;
    double lf = vx_number(l);
    if (op == VX_T_IN) {
        if (vm->rtag != VX_QR_LIST_FLOAT)
            return false;
        for (uint32_t i = 0; i < vm->rlit->count; i++)
            if (vm->rlit->floats[i] == lf)
                return true;
        return false;
    }
    return vm->rtag == VX_QR_FLOAT && compare_floats(op, lf, vm->rlit->f);
}

static bool op_bool(vx_qvm *vm, int op)
{
    if (op != VX_T_EQ && op != VX_T_NE)
        return invalid_operation(vm);
    const vx_value *l = vm->left;
    if (!l || l->type != VX_BOOL || vm->rtag != VX_QR_BOOL)
        return false;
    return (l->u.b == vm->rlit->b) == (op == VX_T_EQ);
}

static bool op_null(vx_qvm *vm, int op)
{
    if (op == VX_T_EQ)
        return vm->left == NULL;
    if (op == VX_T_NE)
        return vm->left != NULL;
    return invalid_operation(vm);
}

static bool op_version(vx_qvm *vm, int op)
{
    if (op == VX_T_CO || op == VX_T_SW || op == VX_T_EW || op == VX_T_IN)
        return invalid_operation(vm);
    const vx_value *l = vm->left;
    vx_semver lv;
    if (!l || l->type != VX_STRING || vm->rtag != VX_QR_STRING || !vm->rlit->ok)
        return false;
    if (!vx_semver_parse(l->u.s, l->len, &lv))
        return false;
    return compare_order(op, vx_semver_compare(&lv, &vm->rlit->ver));
}

static bool apply(vx_qvm *vm, int op)
{
    switch (vm->cls) {
    case VX_QC_STRING: return op_string(vm, op);
    case VX_QC_INT: return op_int(vm, op);
    case VX_QC_FLOAT: return op_float(vm, op);
    case VX_QC_BOOL: return op_bool(vm, op);
    case VX_QC_NULL: return op_null(vm, op);
    default: return op_version(vm, op);
    }
}

/* ---- Query nodes ------------------------------------------------------------ */

static bool visit(vx_qvm *vm, const vx_qnode *q);

static bool visit_compare(vx_qvm *vm, const vx_qnode *q)
{
    visit_attr(vm, &q->path);
    if (vm->panic)
        return false;
    visit_value(vm, q->value);
    if (vm->panic || vm->err)
        return false;
    if (!q->op) {
        panic_nil(vm);
        return false;
    }
    bool r = apply(vm, q->op);
    vm->rtag = VX_QR_NIL;
    return r;
}

static bool visit_chain(vx_qvm *vm, const vx_qnode *q)
{
    bool v = visit(vm, q->first);
    for (uint32_t i = 0; i < q->nlinks && !vm->panic; i++) {
        const vx_qlink *l = &q->links[i];
        if (l->op == VX_QL_NIL) {
            panic_nil(vm);
            break;
        }
        if ((l->op == VX_QL_OR) != v)
            v = visit(vm, l->right);
    }
    return v;
}

VX_HOT
static bool visit(vx_qvm *vm, const vx_qnode *q)
{
    if (!q) {
        panic_nil(vm);
        return false;
    }
    switch (q->kind) {
    case VX_QN_PAREN: {
        bool v = visit(vm, q->inner);
        return q->negate ? !v : v;
    }
    case VX_QN_CHAIN:
        return visit_chain(vm, q);
    case VX_QN_PRESENT:
        visit_attr(vm, &q->path);
        return vm->left != NULL;
    default:
        return visit_compare(vm, q);
    }
}

/* Process(): true only without panic or error. */
static bool process(vx_qvm *vm, const vx_query *q, vx_attrs *attrs)
{
    vm->attrs = attrs;
    vm->left = NULL;
    vm->left_nested = false;
    vm->rtag = VX_QR_NIL;
    vm->rlit = NULL;
    vm->cls = VX_QC_NULL;
    vm->err = NULL;
    vm->panic = VX_QP_NONE;
    vm->top = vm->count = 0;
    bool r = visit(vm, q->root);
    return r && !vm->panic && !vm->err;
}

/* ---- Public API --------------------------------------------------------------- */

vx_query *vx_query_compile(vx_arena *arena, const char *text, size_t len, char *err, size_t errcap)
{
    const vx_qnode *root = vx_qparse(arena, text, len, err, errcap);
    if (!root)
        return NULL;
    vx_query *q = vx_arena_alloc(arena, sizeof(*q));
    if (!q) {
        if (err && errcap)
            snprintf(err, errcap, "out of memory");
        return NULL;
    }
    q->root = root;
    return q;
}

/* Process reports a recovered panic as fmt.Errorf("%q", panicValue). */
static const char vx_nil_panic[] =
    "\"runtime error: invalid memory address or nil pointer dereference\"";

bool vx_query_check(const vx_query *q, char *err, size_t errcap)
{
    vx_qvm vm;
    if (!q) {
        if (err && errcap)
            snprintf(err, errcap, "Invalid rule");
        return false;
    }
    process(&vm, q, NULL);
    if (!vm.panic && !vm.err)
        return true;
    if (!err || !errcap)
        return false;
    if (vm.panic == VX_QP_NIL)
        snprintf(err, errcap, "%s", vx_nil_panic);
    else if (vm.panic == VX_QP_CONVERSION)
        snprintf(err, errcap, "\"interface conversion: %s is %s, not %s\"", vm.panic_iface,
                 vm.panic_have, vm.panic_want);
    else
        snprintf(err, errcap, "%s", vm.err);
    return false;
}

bool vx_query_eval(const vx_query *q, vx_attrs *attrs, bool *had_error)
{
    vx_qvm vm;
    if (!q) {
        if (had_error)
            *had_error = true;
        return false;
    }
    bool r = process(&vm, q, attrs);
    if (had_error)
        *had_error = vm.panic || vm.err;
    return r;
}
