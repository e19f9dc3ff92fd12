/* Internals of the nikunjy/rules query engine, shared by the parser
 * (query_parse.c), the evaluator (query_eval.c) and the tests.
 *
 * The Go library parses with an ANTLR-generated parser whose error recovery
 * keeps going after syntax errors, and its visitor reads the resulting tree
 * with getters that return nil for missing children (a nil dereference then
 * panics, which Process turns into an error). To match it exactly, the parser
 * reproduces ANTLR's tree, error nodes included, and the compiler turns that
 * tree into an AST that records, for each spot the visitor reads, either the
 * value it finds or the panic it would hit. */
#ifndef VX_QUERY_AST_H
#define VX_QUERY_AST_H

#include "arena.h"
#include "attrs.h"
#include "query.h"
#include "semver.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Inputs longer than this are refused; nesting deeper than VX_MAX_DEPTH too. */
#define VX_QUERY_MAX_LEN ((size_t)256 << 10)

/* Token types, numbered as the grammar's generated lexer numbers them: the
 * lexer breaks ties between equally long matches by the smallest type. */
enum {
    VX_T_EOF = -1,
    VX_T_LPAREN = 1,
    VX_T_RPAREN = 2,
    VX_T_PR = 3,
    VX_T_DOT = 4,
    VX_T_MINUS = 5,
    VX_T_LBRACK = 6,
    VX_T_RBRACK = 7,
    VX_T_NOT = 8,
    VX_T_LOGICAL = 9,
    VX_T_BOOLEAN = 10,
    VX_T_NULL = 11,
    VX_T_IN = 12,
    VX_T_EQ = 13,
    VX_T_NE = 14,
    VX_T_GT = 15,
    VX_T_LT = 16,
    VX_T_GE = 17,
    VX_T_LE = 18,
    VX_T_CO = 19,
    VX_T_SW = 20,
    VX_T_EW = 21,
    VX_T_ATTRNAME = 22,
    VX_T_VERSION = 23,
    VX_T_STRING = 24,
    VX_T_DOUBLE = 25,
    VX_T_INT = 26,
    VX_T_EXP = 27,
    VX_T_NEWLINE = 28,
    VX_T_COMMA = 29,
    VX_T_SP = 30
};

/* The operation class a literal selects (the visitor's currentOperation). */
typedef enum vx_qclass {
    VX_QC_STRING,
    VX_QC_INT,
    VX_QC_FLOAT,
    VX_QC_BOOL,
    VX_QC_NULL,
    VX_QC_VERSION
} vx_qclass;

/* Dynamic type of the visitor's rightOp. */
typedef enum vx_qrtag {
    VX_QR_NIL,
    VX_QR_BOOL,
    VX_QR_STRING,
    VX_QR_FLOAT,
    VX_QR_INT,
    VX_QR_LIST_INT,
    VX_QR_LIST_FLOAT,
    VX_QR_LIST_STRING
} vx_qrtag;

typedef enum vx_qlit_kind {
    VX_QV_BOOL,
    VX_QV_NULL,
    VX_QV_VERSION,
    VX_QV_STRING,
    VX_QV_DOUBLE,
    VX_QV_LONG,
    VX_QV_LIST
} vx_qlit_kind;

/* How the visitor's walk over a list literal ends. */
typedef enum vx_qlist_end {
    VX_QL_END,          /* after the last element */
    VX_QL_PARSE_ERROR,  /* element `count` fails to parse: error, walk stops */
    VX_QL_PANIC         /* element `count` has no token: nil dereference */
} vx_qlist_end;

typedef struct vx_qstr {
    const char *s;
    uint32_t len;
} vx_qstr;

/* A string operand prepared for case-insensitive operations. */
typedef struct vx_qlower {
    const uint8_t *s;      /* strings.ToLower of the literal */
    uint32_t len;
    bool ascii;
    const int32_t *kmp;    /* failure function of s, for `co` */
} vx_qlower;

typedef struct vx_qlit {
    uint8_t kind;          /* vx_qlit_kind */
    uint8_t cls;           /* vx_qclass */
    uint8_t elem;          /* lists: VX_QR_LIST_* */
    uint8_t end;           /* lists: vx_qlist_end */
    bool ok;               /* double/long parsed; version accepted by blang */
    bool b;
    int64_t i;
    double f;
    vx_qstr str;           /* string (quotes stripped) or version text */
    vx_qlower low;
    vx_semver ver;
    const char *error;     /* long: parse error; list: element error */
    uint32_t count;        /* list elements read before `end` */
    const int64_t *ints;
    const double *floats;
    const vx_qstr *strs;
} vx_qlit;

typedef enum vx_qnode_kind {
    VX_QN_PAREN,
    VX_QN_CHAIN,
    VX_QN_PRESENT,
    VX_QN_COMPARE
} vx_qnode_kind;

typedef enum vx_qlink_op {
    VX_QL_AND,
    VX_QL_OR,
    VX_QL_NIL  /* no operator token: the visitor dereferences nil */
} vx_qlink_op;

typedef struct vx_qnode vx_qnode;

/* One `op right` step of a left-associative and/or chain. A NULL right
 * operand (or any NULL vx_qnode pointer) is a nil the visitor dereferences. */
typedef struct vx_qlink {
    uint8_t op;            /* vx_qlink_op */
    const vx_qnode *right;
} vx_qlink;

struct vx_qnode {
    uint8_t kind;          /* vx_qnode_kind */
    uint8_t op;            /* compare: VX_T_IN .. VX_T_EW */
    bool negate;           /* paren: `not` */
    const vx_qnode *inner; /* paren */
    const vx_qnode *first; /* chain */
    const vx_qlink *links;
    uint32_t nlinks;
    vx_path path;          /* present, compare */
    const vx_qlit *value;  /* compare; NULL: nil dereference */
};

struct vx_query {
    const vx_qnode *root;
};

/* Parses `text` as the Go library would and compiles the visitor's view of
 * the tree into `arena`. NULL with a message on a tree the visitor rejects
 * outright ("Invalid rule"), on limits and on allocation failure. */
const vx_qnode *vx_qparse(vx_arena *arena, const char *text, size_t len, char *err, size_t errcap);

/* Writes ANTLR's parse tree for `text` in the test oracle's notation (rule
 * names, terminals as type:hex, error nodes marked). For differential tests.
 * Returns the length it needed; output is truncated to cap. */
size_t vx_qparse_dump(const char *text, size_t len, char *out, size_t cap);

/* Go's strings.ToLower of s as bytes: into out when it fits; returns the
 * length of the lowered string either way. */
size_t vx_qlower_into(const uint8_t *s, size_t n, uint8_t *out, size_t cap);

/* Go's strconv.Quote into out (truncated to cap); returns the full length. */
size_t vx_go_quote(const char *s, size_t n, char *out, size_t cap);

#endif
