package main

// A seeded generator of flag files (JSON and YAML) and evaluation cases over
// the whole GOFF flag format. The same seed gives the same files and cases
// (math/rand's seeded source is stable across Go releases).

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// t0 is the instant every case evaluates near: flag dates and each case's
// gofeatureflag.currentDateTime are drawn around it, so both sides evaluate
// scheduled steps, experimentation windows and progressive ramps at the same
// instant.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

var anchors = []time.Duration{
	-30 * 24 * time.Hour, -7 * 24 * time.Hour, -24 * time.Hour, -time.Hour, -time.Second,
	0, time.Second, time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour,
}

// yamlText is a scalar written into a YAML file exactly as given, unquoted
// (a plain date, 1.10, 0x1F, .5, True...). JSON files never hold one.
type yamlText string

// jsonText is a JSON number written as given (1.0, 1e2, -0).
type jsonText string

// omap is an object whose keys are written in insertion order.
type omap struct {
	keys []string
	vals map[string]any
}

func newOmap() *omap { return &omap{vals: map[string]any{}} }

func (m *omap) set(k string, v any) *omap {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
	return m
}

func (m *omap) get(k string) any { return m.vals[k] }

type gen struct {
	r      *rand.Rand
	yaml   bool
	nflags int
}

func (g *gen) pick(n int) int          { return g.r.Intn(n) }
func (g *gen) chance(p float64) bool   { return g.r.Float64() < p }
func (g *gen) one(xs ...string) string { return xs[g.r.Intn(len(xs))] }
func (g *gen) anyOf(xs ...any) any     { return xs[g.r.Intn(len(xs))] }

// ---- Dates ------------------------------------------------------------------

func (g *gen) instant() time.Time {
	t := t0.Add(anchors[g.pick(len(anchors))])
	if g.chance(0.3) {
		t = t.Add(time.Duration(g.r.Int63n(int64(40*24*time.Hour))) - 20*24*time.Hour)
	}
	if g.chance(0.1) {
		t = t.Add(time.Duration(g.r.Intn(1000)) * time.Millisecond)
	}
	return t.Truncate(time.Millisecond)
}

// date writes an instant as a flag-file date: RFC 3339 in JSON; in YAML also
// the other timestamp forms yaml.v3 reads.
func (g *gen) date(t time.Time) any {
	if !g.yaml {
		switch g.pick(4) {
		case 0:
			return t.In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano)
		default:
			return t.Format(time.RFC3339Nano)
		}
	}
	switch g.pick(6) {
	case 0:
		return yamlText(t.Format("2006-01-02 15:04:05.999999999"))
	case 1:
		return t.Format(time.RFC3339) // quoted: time.Time's UnmarshalText
	case 2:
		return yamlText(t.In(time.FixedZone("", -5*3600)).Format(time.RFC3339Nano))
	default:
		return yamlText(t.Format(time.RFC3339Nano))
	}
}

func (g *gen) contextDate(t time.Time) string {
	switch g.pick(5) {
	case 0:
		return t.In(time.FixedZone("", 3600)).Format(time.RFC3339Nano)
	case 1:
		return t.Format(time.RFC3339)
	default:
		return t.Format(time.RFC3339Nano)
	}
}

// ---- Variations ---------------------------------------------------------------

type variations struct {
	names []string
	kind  string // bool string int float number object array mixed date
	vals  *omap
}

var variationNames = []string{"A", "B", "C", "on", "off", "True", "False", "enabled",
	"disabled", "v_1", "v-2", "Ω", "a b", "z", "0"}

func (g *gen) names(n int) []string {
	perm := g.r.Perm(len(variationNames))
	out := make([]string, n)
	for i := range out {
		out[i] = variationNames[perm[i]]
	}
	return out
}

func (g *gen) scalarOf(kind string, i int) any {
	switch kind {
	case "bool":
		return i%2 == 0
	case "string":
		return g.one("red", "blue", "", "Grün", "a\"quote", "<b>&</b>", "multi\nline", "2024") + strconv.Itoa(i)
	case "int":
		if g.yaml && g.chance(0.2) {
			return yamlText(g.one("0x1F", "1_000", "-7", "0o17", "+3"))
		}
		return jsonText(g.one("0", "1", "-1", "42", "1000000", "9007199254740993")) // last: above 2^53
	case "float":
		if g.yaml && g.chance(0.3) {
			return yamlText(g.one("2.0", ".5", "-1.25", "1e3", "3.14159", "1.", "6.02e+23"))
		}
		if !g.yaml && g.chance(0.2) {
			return jsonText(g.one("2.0", "1e2", "-0.0", "1.5e-7", "123456789.125"))
		}
		return []float64{0.5, -2.75, 3.14159, 1e21, 1e-7, 120.9, -0.1}[g.pick(7)]
	case "number":
		if i%2 == 0 {
			return g.scalarOf("int", i)
		}
		return g.scalarOf("float", i)
	case "object":
		o := newOmap().set("k", i).set("name", g.one("x", "y", "<&>"))
		if g.chance(0.3) {
			o.set("nested", newOmap().set("list", []any{1, "two", true, nil}))
		}
		if g.yaml && g.chance(0.3) {
			o.set("since", yamlText("2024-01-0"+strconv.Itoa(1+i%9)))
		}
		return o
	case "array":
		a := []any{i, "s" + strconv.Itoa(i)}
		if g.chance(0.3) {
			a = append(a, newOmap().set("x", i))
		}
		return a
	case "date":
		return yamlText(g.one("2024-01-02", "2024-01-02T10:00:00Z", "2001-12-14 21:59:43.10", "2024-1-2"))
	}
	return nil
}

func (g *gen) variations() variations {
	kinds := []string{"bool", "bool", "string", "string", "int", "float", "number", "object", "array"}
	if g.yaml {
		kinds = append(kinds, "date")
	}
	kind := kinds[g.pick(len(kinds))]
	n := 2 + g.pick(3)
	if kind == "bool" {
		n = 2
	}
	v := variations{names: g.names(n), kind: kind, vals: newOmap()}
	for i, name := range v.names {
		v.vals.set(name, g.scalarOf(kind, i))
	}
	return v
}

// ---- Queries -------------------------------------------------------------------

var attrPaths = []string{"email", "country", "age", "beta", "plan", "score", "tags", "company.id",
	"company.size", "company", "appVersion", "nil", "anonymous", "key", "targetingKey",
	"unknown", "company.missing.deep", "Ünï", "tenant"}

func (g *gen) literal() string {
	switch g.pick(12) {
	case 0, 1:
		return strconv.Quote(g.one("ada@example.com", "example.com", "@example.com", "FR", "fr", "DE",
			"pro", "PRO", "free", "", "c1", "a", "1.2.3"))
	case 2:
		return g.one("0", "1", "18", "-5", "30", "100", "1e2", "10")
	case 3:
		return g.one("0.5", "18.5", "-1.5", "30.0", "1.0e1")
	case 4:
		return g.one("true", "false")
	case 5:
		return "null"
	case 6:
		return g.one("1.2.3", "1.10.0", "2.0.0-beta.1", "1.0.0+build.7", "0.0.1")
	case 7:
		return g.one(`["FR", "DE"]`, `["fr","US"]`, `["pro"]`, `["a", "b", "c"]`)
	case 8:
		return g.one("[1,2,3]", "[18, 30]", "[0]", "[10,20]")
	case 9:
		return g.one("[1.5,2.5]", "[0.5]")
	default:
		return strconv.Quote(g.one("ada", "@corp.io", "EXAMPLE", "e", "x"))
	}
}

// Operators by literal class, so most generated queries are valid: an
// operation the literal's class lacks (co on a number, gt on a bool) makes
// GOFF's validation reject the flag.
var opsFor = map[byte][]string{
	's': {"eq", "ne", "gt", "lt", "ge", "le", "co", "sw", "ew", "EQ", "==", "!=", ">", "<", ">=", "<=",
		"CO", "SW", "EW", "NE"},
	'n': {"eq", "ne", "gt", "lt", "ge", "le", "==", "!=", ">", "<", ">=", "<=", "GT", "LT", "GE", "LE"},
	'b': {"eq", "ne", "==", "!="},
	'0': {"eq", "ne"},
	'v': {"eq", "ne", "gt", "lt", "ge", "le"},
	'l': {"in", "IN"},
}

func (g *gen) nikunjyLeaf() string {
	attr := attrPaths[g.pick(len(attrPaths))]
	if g.chance(0.08) {
		return attr + " pr"
	}
	lit := g.literal()
	class := byte('s')
	switch {
	case lit == "true" || lit == "false":
		class = 'b'
	case lit == "null":
		class = '0'
	case lit[0] == '[':
		class = 'l'
	case lit[0] == '"':
		class = 's'
	case lit[0] >= '0' && lit[0] <= '9' && strings.Count(lit, ".") >= 2:
		class = 'v'
	default:
		class = 'n'
	}
	ops := opsFor[class]
	if g.chance(0.05) {
		ops = opsFor['s']
	}
	return attr + " " + ops[g.pick(len(ops))] + " " + lit
}

func (g *gen) nikunjy(depth int) string {
	if depth > 2 || g.chance(0.45) {
		return g.nikunjyLeaf()
	}
	switch g.pick(5) {
	case 0:
		return "not (" + g.nikunjy(depth+1) + ")"
	case 1:
		return "(" + g.nikunjy(depth+1) + ")"
	default:
		return g.nikunjy(depth+1) + " " + g.one("and", "or") + " " + g.nikunjy(depth+1)
	}
}

// malformed makes a query GOFF's grammar rejects or reads oddly.
func (g *gen) malformed(q string) string {
	switch g.pick(9) {
	case 0:
		return strings.Replace(q, " ", "  ", 1)
	case 1:
		return strings.Replace(strings.Replace(q, " and ", " And ", 1), " eq ", " Eq ", 1)
	case 2:
		return q + " xyz"
	case 3:
		return strings.Replace(q, " ", "\t", 1)
	case 4:
		return ""
	case 5:
		return "email eq \"unterminated"
	case 6:
		return q + " "
	case 7:
		return "country in [\"FR\",1]"
	default:
		return "age foo 1"
	}
}

func (g *gen) jlVar() any {
	path := g.one("email", "country", "age", "beta", "plan", "score", "tags", "company.id",
		"company.size", "tags.0", "nil", "anonymous", "key", "targetingKey", "unknown", "")
	switch g.pick(4) {
	case 0:
		return map[string]any{"var": []any{path, g.anyOf("dflt", 0.0, nil, true)}}
	case 1:
		return map[string]any{"var": []any{path}}
	default:
		return map[string]any{"var": path}
	}
}

func (g *gen) jlValue() any {
	return g.anyOf("FR", "pro", "", "ada@example.com", "a", 0.0, 1.0, 18.0, 30.5, -1.0, true, false,
		nil, []any{"FR", "DE"}, []any{1.0, 2.0}, []any{})
}

func (g *gen) jsonlogic(depth int) any {
	if depth > 3 || g.chance(0.25) {
		if g.chance(0.6) {
			return g.jlVar()
		}
		return g.jlValue()
	}
	arity := func(n int) []any {
		// sometimes one argument too few or too many
		if g.chance(0.12) {
			n += g.one2(-1, 1)
		}
		if n < 0 {
			n = 0
		}
		a := make([]any, n)
		for i := range a {
			a[i] = g.jsonlogic(depth + 1)
		}
		return a
	}
	op := g.one("==", "!=", "===", "!==", "<", "<=", ">", ">=", "and", "or", "!", "!!", "in", "if",
		"cat", "substr", "+", "-", "*", "/", "%", "min", "max", "missing", "missing_some", "some",
		"all", "none", "merge", "?:", "and", "or", "==", "in")
	switch op {
	case "and", "or":
		return map[string]any{op: arity(1 + g.pick(3))}
	case "!", "!!":
		if g.chance(0.3) {
			return map[string]any{op: g.jsonlogic(depth + 1)}
		}
		return map[string]any{op: arity(1)}
	case "if", "?:":
		return map[string]any{op: arity(1 + 2*g.pick(2) + g.pick(2))}
	case "<", "<=":
		if g.chance(0.2) {
			return map[string]any{op: arity(3)}
		}
		return map[string]any{op: arity(2)}
	case "substr":
		return map[string]any{op: []any{g.jsonlogic(depth + 1), g.anyOf(0.0, 1.0, -2.0, 10.0)}}
	case "missing":
		return map[string]any{op: []any{g.one("email", "age", "unknown", "company.id")}}
	case "missing_some":
		return map[string]any{op: []any{1.0, []any{"email", "unknown", "age"}}}
	case "some", "all", "none":
		return map[string]any{op: []any{map[string]any{"var": g.one("tags", "unknown", "email")},
			map[string]any{"==": []any{map[string]any{"var": ""}, g.anyOf("a", "b", 1.0)}}}}
	case "cat", "+", "*", "min", "max", "merge":
		return map[string]any{op: arity(g.pick(4))}
	default:
		return map[string]any{op: arity(2)}
	}
}

func (g *gen) one2(a, b int) int {
	if g.chance(0.5) {
		return a
	}
	return b
}

// jlComparison is a comparison a flag author would write: an attribute
// against a literal of a likely type.
func (g *gen) jlComparison() any {
	v := func(name string) any { return map[string]any{"var": name} }
	switch g.pick(9) {
	case 0:
		return map[string]any{"==": []any{v(g.one("country", "plan", "email")), g.anyOf("FR", "pro", "ada@example.com", "")}}
	case 1:
		return map[string]any{g.one(">=", ">", "<", "<="): []any{v(g.one("age", "score", "company.size")), g.anyOf(18.0, 0.5, 10.0, "18")}}
	case 2:
		return map[string]any{"in": []any{v(g.one("country", "plan")), []any{"FR", "DE", "pro"}}}
	case 3:
		return map[string]any{"in": []any{g.one("@example.com", "corp", "a"), v(g.one("email", "tags", "plan"))}}
	case 4:
		return map[string]any{"<": []any{0.0, v("age"), 65.0}}
	case 5:
		return map[string]any{g.one("!!", "!"): []any{v(g.one("beta", "tags", "nil", "unknown", "email"))}}
	case 6:
		return map[string]any{g.one("!=", "===", "!=="): []any{v(g.one("beta", "anonymous", "age")), g.anyOf(true, false, 30.0, nil)}}
	case 7:
		// one argument: v3.9.0 and v3.10.1 disagree
		return map[string]any{g.one("==", "<", ">=", "!="): []any{v(g.one("age", "country"))}}
	default:
		return v(g.one("beta", "age", "email", "tags", "company.id", "unknown"))
	}
}

func (g *gen) jlAuthored(depth int) any {
	if depth > 1 || g.chance(0.4) {
		return g.jlComparison()
	}
	switch g.pick(4) {
	case 0:
		return map[string]any{"!": []any{g.jlAuthored(depth + 1)}}
	case 1:
		return map[string]any{"if": []any{g.jlAuthored(depth + 1), g.anyOf(true, "yes", 1.0), g.anyOf(false, "", 0.0)}}
	default:
		n := 1 + g.pick(3)
		a := make([]any, n)
		for i := range a {
			a[i] = g.jlAuthored(depth + 1)
		}
		return map[string]any{g.one("and", "or"): a}
	}
}

func (g *gen) jsonlogicQuery() string {
	var q any
	switch g.pick(10) {
	case 3, 4, 5, 6, 7:
		q = g.jlAuthored(0)
	case 0:
		if !g.chance(0.3) {
			q = g.jlAuthored(0)
			break
		}
		q = map[string]any{"endsWith": []any{g.jlVar(), "@example.com"}} // not registered
	case 1:
		q = map[string]any{"==": []any{1.0, 1.0}, "!=": []any{1.0, 2.0}} // two keys
	case 2:
		q = map[string]any{"in": []any{g.jlVar(), []any{"FR", "DE"}}}
	default:
		q = g.jsonlogic(0)
		if _, ok := q.(map[string]any); !ok {
			q = map[string]any{"==": []any{q, g.jlValue()}}
		}
	}
	b, _ := json.Marshal(q)
	s := string(b)
	if g.chance(0.15) {
		s = strings.Replace(s, ",", ",\n  ", -1)
	}
	return s
}

func (g *gen) query() string {
	if g.chance(0.35) {
		return g.jsonlogicQuery()
	}
	q := g.nikunjy(0)
	if g.chance(0.05) {
		q = g.malformed(q)
	}
	return q
}

// ---- Rules ----------------------------------------------------------------------

func (g *gen) percentages(v variations) *omap {
	m := newOmap()
	names := append([]string(nil), v.names...)
	g.r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	k := 1 + g.pick(len(names))
	pick := names[:k]
	switch g.pick(8) {
	case 0: // uneven integers summing to 100
		rest := 100
		for i, n := range pick {
			p := rest
			if i < len(pick)-1 {
				p = g.r.Intn(rest + 1)
			}
			rest -= p
			m.set(n, p)
		}
	case 1: // fractional
		for _, n := range pick {
			m.set(n, []float64{33.333, 0.001, 12.5, 66.667, 0.5, 99.999}[g.pick(6)])
		}
	case 2: // not summing to 100
		for _, n := range pick {
			m.set(n, []int{5, 50, 60, 91, 200, 1}[g.pick(6)])
		}
	case 3: // one at 100
		for i, n := range pick {
			p := 0
			if i == 0 {
				p = 100
			}
			m.set(n, p)
		}
	case 4: // a negative share
		for i, n := range pick {
			p := 60
			if i == 0 {
				p = -10
			}
			m.set(n, p)
		}
	default:
		for _, n := range v.names {
			m.set(n, 100/len(v.names))
		}
	}
	if g.chance(0.02) {
		m.set("nope", 10) // unknown variation: invalid
	}
	if g.chance(0.01) {
		return newOmap() // empty: invalid
	}
	return m
}

func (g *gen) progressive(v variations) *omap {
	a, b := v.names[0], v.names[len(v.names)-1]
	start := g.instant()
	end := start.Add(time.Duration(1+g.pick(10*24)) * time.Hour)
	if g.chance(0.1) {
		end = start.Add(-time.Hour) // end before initial: runtime error
	}
	if g.chance(0.05) {
		end = start
	}
	initial := newOmap().set("variation", a)
	final := newOmap().set("variation", b)
	if !g.chance(0.1) {
		initial.set("percentage", g.anyOf(0, 0, 10, 25.5, 50))
	}
	if !g.chance(0.1) {
		final.set("percentage", g.anyOf(100, 100, 75, 0, 150, 60))
		if g.chance(0.04) {
			final.set("percentage", 5) // below the initial share: invalid
		}
	}
	if !g.chance(0.07) {
		initial.set("date", g.date(start))
	}
	if !g.chance(0.07) {
		final.set("date", g.date(end))
	}
	if g.chance(0.015) {
		final.set("variation", "nope")
	}
	return newOmap().set("initial", initial).set("end", final)
}

var ruleNames = []string{"beta", "europe", "ramp", "vip", "legacy", "r1", "r2"}

func (g *gen) output(r *omap, v variations) {
	switch x := g.pick(10); {
	case x < 4:
		name := v.names[g.pick(len(v.names))]
		if g.chance(0.015) {
			name = "nope"
		}
		r.set("variation", name)
	case x < 8:
		r.set("percentage", g.percentages(v))
		if g.chance(0.2) {
			r.set("variation", v.names[0]) // ignored beside a percentage
		}
	default:
		r.set("progressiveRollout", g.progressive(v))
	}
	if g.chance(0.01) {
		r.vals = map[string]any{}
		r.keys = nil // no output at all: invalid
	}
}

func (g *gen) rule(v variations, named map[string]bool) *omap {
	r := newOmap()
	if g.chance(0.7) {
		n := ruleNames[g.pick(len(ruleNames))]
		if named[n] && !g.chance(0.05) {
			n += strconv.Itoa(len(named))
		}
		named[n] = true
		r.set("name", n)
	}
	if !g.chance(0.015) {
		r.set("query", g.query())
	}
	g.output(r, v)
	if g.chance(0.12) {
		r.set("disable", true)
	} else if g.chance(0.05) {
		r.set("disable", false)
	}
	return r
}

// ---- Flags --------------------------------------------------------------------------

func (g *gen) flag() *omap {
	v := g.variations()
	f := newOmap()
	if g.chance(0.02) {
		v.vals.set(v.names[0], nil) // null variation: invalid
	}
	if g.chance(0.03) {
		v.vals.set("mixed", g.scalarOf(g.one("bool", "string", "object", "int"), 9)) // maybe mixed
		v.names = append(v.names, "mixed")
	}
	if !g.chance(0.01) {
		f.set("variations", v.vals)
	}
	named := map[string]bool{}
	if !g.chance(0.3) {
		n := 1 + g.pick(3)
		rules := make([]any, n)
		for i := range rules {
			rules[i] = g.rule(v, named)
		}
		f.set("targeting", rules)
	}
	if !g.chance(0.01) {
		d := newOmap()
		if g.chance(0.2) {
			d.set("name", g.one("default", "fallback"))
		}
		g.output(d, v)
		if g.chance(0.05) {
			d.set("query", g.query()) // ignored on the default rule
		}
		f.set("defaultRule", d)
	}
	if g.chance(0.08) {
		f.set("bucketingKey", g.one("tenant", "company.id", "", "unknown.path", "age", "company",
			"targetingKey"))
	}
	if g.chance(0.15) {
		f.set("trackEvents", g.chance(0.5))
	}
	if g.chance(0.1) {
		f.set("disable", g.chance(0.7))
	}
	if g.chance(0.3) {
		if g.yaml && g.chance(0.4) {
			f.set("version", yamlText(g.one("1.10", "2", "0x10", "true", "2024-01-02")))
		} else {
			f.set("version", g.one("1.0.0", "v2", ""))
		}
	}
	if g.chance(0.3) {
		m := newOmap().set("description", g.one("demo", "<b>&</b>", ""))
		if g.chance(0.5) {
			m.set("owner", newOmap().set("team", "core").set("n", 3))
		}
		if g.yaml && g.chance(0.2) {
			m.set("created", yamlText("2024-06-30"))
		}
		f.set("metadata", m)
	}
	if g.chance(0.12) {
		e := newOmap()
		if !g.chance(0.2) {
			e.set("start", g.date(g.instant()))
		}
		if !g.chance(0.2) {
			e.set("end", g.date(g.instant()))
		}
		f.set("experimentation", e)
	}
	if g.chance(0.15) {
		f.set("scheduledRollout", g.scheduled(v, named))
	}
	if g.chance(0.05) {
		f.set(g.one("unknownKey", "converter", "Foo"), g.anyOf("x", 1, true))
	}
	return f
}

func (g *gen) scheduled(v variations, named map[string]bool) []any {
	n := 1 + g.pick(3)
	steps := make([]any, n)
	names := make([]string, 0, len(named))
	for k := range named {
		names = append(names, k)
	}
	sort.Strings(names)
	for i := range steps {
		s := newOmap()
		if !g.chance(0.05) {
			s.set("date", g.date(g.instant()))
		}
		switch g.pick(7) {
		case 0, 1:
			r := newOmap()
			if len(names) > 0 && g.chance(0.7) {
				r.set("name", names[g.pick(len(names))])
			} else if g.chance(0.5) {
				r.set("name", "added"+strconv.Itoa(i))
			}
			switch g.pick(4) {
			case 0:
				r.set("variation", v.names[g.pick(len(v.names))])
			case 1:
				p := newOmap()
				for _, nm := range v.names {
					p.set(nm, g.anyOf(-1, 10, 50, 0, 90))
				}
				r.set("percentage", p)
			case 2:
				r.set("query", g.query())
				r.set("variation", v.names[0])
			default:
				r.set("disable", g.chance(0.5))
			}
			s.set("targeting", []any{r})
		case 2:
			d := newOmap()
			if g.chance(0.5) {
				d.set("variation", v.names[g.pick(len(v.names))])
			} else {
				p := newOmap()
				for _, nm := range v.names {
					p.set(nm, g.anyOf(-1, 20, 80, 100, 0))
				}
				d.set("percentage", p)
			}
			s.set("defaultRule", d)
		case 3:
			vv := newOmap().set(v.names[0], g.scalarOf(v.kind, 7))
			s.set("variations", vv)
		case 4:
			s.set("disable", g.chance(0.5))
		case 5:
			e := newOmap()
			e.set(g.one("start", "end"), g.date(g.instant()))
			s.set("experimentation", e)
		default:
			s.set("version", "scheduled")
			s.set("trackEvents", false)
			s.set("metadata", newOmap().set("ignored", true))
		}
		steps[i] = s
	}
	return steps
}

// hazard is a flag that makes GOFF reject (or crash on) the whole file; it
// goes into a file of its own beside one ordinary flag.
func (g *gen) hazard() *omap {
	f := g.flag()
	switch g.pick(8) {
	case 0:
		f.set("variations", "x")
	case 1:
		f.set("disable", g.one("yes", "1", "off"))
	case 2:
		f.set("trackEvents", 0)
	case 3:
		f.set("targeting", newOmap().set("query", "a eq 1"))
	case 4:
		d := newOmap().set("progressiveRollout", newOmap().set("end",
			newOmap().set("variation", "A").set("percentage", 100)))
		f.set("defaultRule", d)
	case 5:
		f.set("defaultRule", newOmap().set("percentage", newOmap().set("A", "50")))
	case 6:
		if g.yaml {
			f.set("experimentation", newOmap().set("start", "2024-01-02"))
		} else {
			f.set("version", 1)
		}
	default:
		f.set("experimentation", newOmap().set("start", 12345))
	}
	return f
}

// ---- Contexts -----------------------------------------------------------------------

var keys = []string{"user-1", "user-2", "user-3", "ada", "bob", "e56f628e-9817-498f-ae38-4961e9c2bb21",
	"ユーザー", "x", "user-42", "user-99", "team-123", "ABCD"}

func (g *gen) context(c *Case) {
	switch x := g.pick(20); {
	case x == 0:
		// missing
	case x == 1:
		e := ""
		c.Key = &e
	default:
		k := keys[g.pick(len(keys))]
		if g.chance(0.3) {
			k = fmt.Sprintf("user-%d", g.r.Intn(100000))
		}
		c.Key = &k
	}
	a := map[string]any{}
	set := func(name string, p float64, vals ...any) {
		if g.chance(p) {
			a[name] = vals[g.pick(len(vals))]
		}
	}
	set("email", 0.7, "ada@example.com", "bob@corp.io", "", "ADA@EXAMPLE.COM", "carol@example.com.fr")
	set("country", 0.6, "FR", "DE", "US", "fr", "")
	set("age", 0.6, 0, 17, 18, 30, 99, -5, "30")
	if g.chance(0.15) {
		a["age"] = []float64{18.5, 30.0, 17.9}[g.pick(3)]
		c.Floats = append(c.Floats, "age")
	}
	set("beta", 0.5, true, false, "true")
	set("plan", 0.5, "free", "pro", "PRO", "enterprise")
	set("score", 0.4, 0.5, 1.0, 0.0, 10)
	if _, ok := a["score"].(float64); ok {
		c.Floats = append(c.Floats, "score")
	}
	set("tags", 0.4, []any{"a", "b"}, []any{}, []any{"c"}, "a")
	set("company", 0.4, map[string]any{"id": "c1", "size": 10}, map[string]any{"id": "c2"},
		map[string]any{"id": 7}, "acme", map[string]any{})
	set("appVersion", 0.4, "1.2.3", "1.10.0", "2.0.0-beta.1", "1.2", "v1.0.0", "2.0.0")
	set("nil", 0.2, nil)
	set("anonymous", 0.2, true, false, "true")
	set("tenant", 0.3, "t1", "t2", "", 5)
	set("Ünï", 0.1, "ü")
	set("targetingKey", 0.1, "other", 12)
	set("key", 0.05, "attr-key")
	gf := map[string]any{"currentDateTime": g.contextDate(g.instant())}
	if g.chance(0.05) {
		gf["exporterMetadata"] = map[string]any{"env": "ci"}
	}
	a["gofeatureflag"] = gf
	c.Attrs = a
}

var defaults = map[string][]string{
	"bool":   {"false", "true"},
	"string": {`"dflt"`, `""`},
	"int":    {"7", "0", "-3"},
	"float":  {"1.5", "0", "-2.25"},
	"object": {`{"d":[1,2]}`, `{}`},
	"array":  {`[1,"x"]`, `[]`},
}

func naturalType(kind string) []string {
	switch kind {
	case "bool":
		return []string{"bool"}
	case "string", "date":
		return []string{"string"}
	case "int":
		return []string{"int", "float"}
	case "float", "number":
		return []string{"float", "int"}
	case "object":
		return []string{"object"}
	case "array":
		return []string{"array"}
	}
	return []string{"string"}
}

var allTypes = []string{"bool", "string", "int", "float", "object", "array"}

func kindOf(f *omap) string {
	vals, _ := f.get("variations").(*omap)
	if vals == nil {
		return "string"
	}
	for _, k := range vals.keys {
		switch x := vals.vals[k].(type) {
		case bool:
			return "bool"
		case string:
			return "string"
		case yamlText:
			if strings.Count(string(x), "-") >= 2 {
				return "date"
			}
			if strings.ContainsAny(string(x), ".eE") && !strings.HasPrefix(string(x), "0x") {
				return "float"
			}
			return "int"
		case jsonText, float64:
			return "float"
		case *omap:
			return "object"
		case []any:
			return "array"
		case nil:
			continue
		default:
			return "int"
		}
	}
	return "string"
}

// ---- Files -----------------------------------------------------------------------------

func (g *gen) file(idx int, dir string) ([]Case, error) {
	g.yaml = g.chance(0.5)
	format, ext := "json", "json"
	if g.yaml {
		format, ext = "yaml", "yaml"
	}
	name := fmt.Sprintf("f%04d.%s", idx, ext)
	flags := newOmap()
	if g.chance(0.06) {
		flags.set("hazard", g.hazard())
		flags.set("plain", g.flag())
	} else {
		n := 3 + g.pick(6)
		for i := 0; i < n; i++ {
			flags.set(fmt.Sprintf("flag-%d", i), g.flag())
		}
	}
	var text []byte
	if g.yaml {
		text = toYAML(flags)
	} else {
		text = toJSON(flags)
	}
	if err := os.WriteFile(filepath.Join(dir, name), text, 0o644); err != nil {
		return nil, err
	}
	var cases []Case
	id := func() string { return fmt.Sprintf("%s#%d", name, len(cases)) }
	cases = append(cases, Case{ID: id(), File: name, Format: format, Lint: true})
	for _, k := range append(flags.keys, "missing-flag") {
		kind := "string"
		if f, ok := flags.get(k).(*omap); ok {
			kind = kindOf(f)
		}
		nctx := 4 + g.pick(8)
		if k == "missing-flag" {
			nctx = 1
		}
		for i := 0; i < nctx; i++ {
			types := naturalType(kind)
			t := types[0]
			if len(types) > 1 && g.chance(0.3) {
				t = types[1]
			}
			if g.chance(0.12) {
				t = allTypes[g.pick(len(allTypes))]
			}
			d := defaults[t]
			c := Case{ID: id(), File: name, Format: format, Flag: k, Type: t,
				Default: json.RawMessage(d[g.pick(len(d))])}
			g.context(&c)
			cases = append(cases, c)
		}
	}
	return cases, nil
}

func generate(seed int64, nfiles int, dir string) ([]Case, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	g := &gen{r: rand.New(rand.NewSource(seed))}
	var all []Case
	for i := 0; i < nfiles; i++ {
		cs, err := g.file(i, dir)
		if err != nil {
			return nil, err
		}
		all = append(all, cs...)
	}
	return all, writeLines(filepath.Join(dir, "cases.jsonl"), all)
}

func cmdGen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	seed := fs.Int64("seed", 1, "seed")
	nfiles := fs.Int("files", 100, "number of flag files")
	out := fs.String("out", "cases", "output folder")
	_ = fs.Parse(args)
	cases, err := generate(*seed, *nfiles, *out)
	if err == nil {
		fmt.Printf("wrote %d cases over %d files to %s\n", len(cases), *nfiles, *out)
	}
	return err
}

func dirOf(path string) string { return filepath.Dir(path) }
