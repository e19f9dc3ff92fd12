package main

// Field-by-field comparison of GOFF's and vexil's results, and the view of a
// difference that known-difference matchers read.

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// An observation is one difference: a whole evaluation case, or one flag of
// a lint case.
type observation struct {
	caseID string
	flag   string
	diff   []string
	view   map[string]any
}

type flagFiles struct {
	dir   string
	files map[string]map[string]any
}

// flags decodes a flag file generically, as GOFF's decoders see it: YAML
// through yaml.v3 (a plain timestamp becomes "!timestamp <RFC 3339>"), JSON
// through encoding/json.
func (ff *flagFiles) flags(name, format string) map[string]any {
	if m, ok := ff.files[name]; ok {
		return m
	}
	m := map[string]any{}
	data, err := os.ReadFile(filepath.Join(ff.dir, name))
	if err == nil {
		if format == "json" {
			_ = json.Unmarshal(data, &m)
		} else {
			_ = yaml.Unmarshal(data, &m)
		}
	}
	ff.files[name] = m
	return m
}

func canonical(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return string(raw)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSpace(b.String())
}

func resultFields(r Result) map[string]string {
	f := map[string]string{}
	if r.LoadError != nil {
		f["loadError"] = "yes"
		return f
	}
	if r.Panic != "" {
		f["panic"] = "yes"
		return f
	}
	f["value"] = canonical(r.Value)
	f["variant"] = r.Variant
	f["reason"] = r.Reason
	f["errorCode"] = r.ErrorCode
	f["errorMessage"] = r.ErrorMessage
	f["metadata"] = canonical(r.Metadata)
	f["version"] = r.Version
	f["trackEvents"] = strconv.FormatBool(r.TrackEvents)
	f["cacheable"] = strconv.FormatBool(r.Cacheable)
	return f
}

func diffFields(a, b map[string]string) []string {
	var d []string
	seen := map[string]bool{}
	for k, v := range a {
		seen[k] = true
		if w, ok := b[k]; !ok || w != v {
			d = append(d, k)
		}
	}
	for k := range b {
		if !seen[k] {
			d = append(d, k)
		}
	}
	sort.Strings(d)
	return d
}

func toView(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// compareCase returns the case's observations (none when both sides agree).
func (ff *flagFiles) compareCase(c Case, g, v Result) []observation {
	flags := ff.flags(c.File, c.Format)
	if c.Lint && g.LoadError == nil && v.LoadError == nil && g.Invalid != nil && v.Invalid != nil {
		return ff.compareLint(c, *g.Invalid, *v.Invalid, flags)
	}
	d := diffFields(resultFields(g), resultFields(v))
	if len(d) == 0 {
		return nil
	}
	def := flags[c.Flag]
	return []observation{{caseID: c.ID, flag: c.Flag, diff: d,
		view: makeView(c, c.Flag, def, toView(g), toView(v), d)}}
}

func (ff *flagFiles) compareLint(c Case, g, v map[string]string, flags map[string]any) []observation {
	var obs []observation
	keys := map[string]bool{}
	for k := range g {
		keys[k] = true
	}
	for k := range v {
		keys[k] = true
	}
	ks := make([]string, 0, len(keys))
	for k := range keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		gr, gok := g[k]
		vr, vok := v[k]
		if gok == vok && gr == vr {
			continue
		}
		side := func(ok bool, r string) any {
			if !ok {
				return map[string]any{"invalid": nil}
			}
			return map[string]any{"invalid": r}
		}
		obs = append(obs, observation{caseID: c.ID, flag: k, diff: []string{"invalid"},
			view: makeView(c, k, flags[k], side(gok, gr), side(vok, vr), []string{"invalid"})})
	}
	return obs
}

func makeView(c Case, key string, def any, g, v any, diff []string) map[string]any {
	evalDate := ""
	if gf, ok := c.Attrs["gofeatureflag"].(map[string]any); ok {
		evalDate, _ = gf["currentDateTime"].(string)
	}
	derived := map[string]any{
		"dueSteps":    dueSteps(def, evalDate),
		"jlShapes":    jsonlogicShapes(def),
		"validity":    validity(c.Lint, g, v),
		"pctSumOrder": percentageSumOrder(def),
	}
	return map[string]any{
		"case":    toView(c),
		"flag":    toView(stampTimes(def)),
		"goff":    g,
		"vexil":   v,
		"diff":    diff,
		"derived": derived,
	}
}

// stampTimes replaces the time.Time values yaml.v3 made of plain timestamps
// with "!timestamp <RFC 3339>" strings, so matchers can see them.
func stampTimes(v any) any {
	switch x := v.(type) {
	case time.Time:
		return "!timestamp " + x.Format(time.RFC3339Nano)
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = stampTimes(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = stampTimes(e)
		}
		return a
	}
	return v
}

func asTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		t, err := time.Parse(time.RFC3339, x)
		return t, err == nil
	}
	return time.Time{}, false
}

// dueSteps counts the scheduled steps whose date is at or before the
// evaluation instant.
func dueSteps(def any, evalDate string) int {
	f, _ := def.(map[string]any)
	steps, _ := f["scheduledRollout"].([]any)
	at, err := time.Parse(time.RFC3339, evalDate)
	if err != nil {
		return 0
	}
	n := 0
	for _, s := range steps {
		m, _ := s.(map[string]any)
		if t, ok := asTime(m["date"]); ok && !t.After(at) {
			n++
		}
	}
	return n
}

// jsonlogicShapes lists "op/arity" for every operation of the flag's
// JsonLogic queries (arity "v" when the argument is not an array).
func jsonlogicShapes(def any) []string {
	set := map[string]bool{}
	var rules []any
	f, _ := def.(map[string]any)
	collect := func(x map[string]any) {
		if t, ok := x["targeting"].([]any); ok {
			rules = append(rules, t...)
		}
		if d, ok := x["defaultRule"]; ok {
			rules = append(rules, d)
		}
	}
	collect(f)
	if steps, ok := f["scheduledRollout"].([]any); ok {
		for _, s := range steps {
			if m, ok := s.(map[string]any); ok {
				collect(m)
			}
		}
	}
	var walk func(any)
	walk = func(n any) {
		switch x := n.(type) {
		case map[string]any:
			if len(x) == 1 {
				for op, args := range x {
					if a, ok := args.([]any); ok {
						set[op+"/"+strconv.Itoa(len(a))] = true
						for _, e := range a {
							walk(e)
						}
					} else {
						set[op+"/v"] = true
						walk(args)
					}
				}
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, r := range rules {
		m, _ := r.(map[string]any)
		q, _ := m["query"].(string)
		var parsed map[string]any
		if err := json.Unmarshal([]byte(strings.ReplaceAll(q, "\n", "")), &parsed); err == nil {
			walk(parsed)
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func decodeNumbers(data []byte, out any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d.Decode(out)
}

// validity tells which side accepted the flag: "both", "goff-only",
// "vexil-only" or "neither" (an evaluation that answers FLAG_NOT_FOUND, or a
// lint that reports the flag, counts as rejecting it).
func validity(lint bool, g, v any) string {
	ok := func(r any) bool {
		m, _ := r.(map[string]any)
		if _, failed := m["loadError"]; failed {
			return false
		}
		if lint {
			return m["invalid"] == nil
		}
		return m["errorCode"] != "FLAG_NOT_FOUND"
	}
	switch gv, vv := ok(g), ok(v); {
	case gv && vv:
		return "both"
	case gv:
		return "goff-only"
	case vv:
		return "vexil-only"
	}
	return "neither"
}

// percentageSumOrder tells whether one of the flag's percentage splits has
// a modulus, uint32(sum*1000), that depends on the order the shares are
// added in: GOFF adds them in Go's random map order.
func percentageSumOrder(def any) bool {
	var splits []map[string]any
	var walk func(any)
	walk = func(n any) {
		switch x := n.(type) {
		case map[string]any:
			for k, e := range x {
				if p, ok := e.(map[string]any); ok && k == "percentage" {
					splits = append(splits, p)
				} else {
					walk(e)
				}
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(def)
	for _, p := range splits {
		var vals []float64
		for _, v := range p {
			switch f := v.(type) {
			case float64:
				vals = append(vals, f)
			case int:
				vals = append(vals, float64(f))
			}
		}
		if len(vals) > 7 {
			vals = vals[:7]
		}
		seen := map[uint32]bool{}
		permute(vals, 0, func(o []float64) {
			sum := 0.0
			for _, f := range o {
				sum += f
			}
			seen[uint32(sum*1000)] = true
		})
		if len(seen) > 1 {
			return true
		}
	}
	return false
}

func permute(a []float64, k int, visit func([]float64)) {
	if k == len(a) {
		visit(a)
		return
	}
	for i := k; i < len(a); i++ {
		a[k], a[i] = a[i], a[k]
		permute(a, k+1, visit)
		a[k], a[i] = a[i], a[k]
	}
}
