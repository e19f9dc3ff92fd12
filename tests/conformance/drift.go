package main

// Whether a difference comes from the JsonLogic library's upgrade: GOFF
// v1.52.1 evaluates with diegoholiveira/jsonlogic v3.9.0 (modules/core
// v0.6.1's go.mod), GOFF's main branch and vexil with v3.10.1. Each query of
// the flag is evaluated on the case's context with both; the second runs in
// a helper program of its own module (jsonlogic310/), since one Go module
// builds against one version.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"

	"github.com/diegoholiveira/jsonlogic/v3"
	"github.com/thomaspoignant/go-feature-flag/modules/core/utils"
)

type jlProbe struct {
	Query string          `json:"query"`
	Data  json.RawMessage `json:"data"`
}

func flagQueries(def any) []string {
	var qs []string
	var rules []any
	f, _ := def.(map[string]any)
	add := func(x map[string]any) {
		if t, ok := x["targeting"].([]any); ok {
			rules = append(rules, t...)
		}
	}
	add(f)
	if steps, ok := f["scheduledRollout"].([]any); ok {
		for _, s := range steps {
			if m, ok := s.(map[string]any); ok {
				add(m)
			}
		}
	}
	for _, r := range rules {
		m, _ := r.(map[string]any)
		if q, ok := m["query"].(string); ok {
			q = utils.StrTrim(q)
			if utils.IsJSONObject(q) {
				qs = append(qs, q)
			}
		}
	}
	return qs
}

func apply39(query string, data []byte) (res string) {
	defer func() {
		if recover() != nil {
			res = "error"
		}
	}()
	var b bytes.Buffer
	if err := jsonlogic.Apply(strings.NewReader(query), bytes.NewReader(data), &b); err != nil {
		return "error"
	}
	switch strings.TrimSpace(b.String()) {
	case "false", "null", `""`, "0", "[]":
		return "false"
	}
	return "true"
}

// markDrift sets derived.jlDrift on each observation whose flag has a
// JsonLogic query that the two library versions answer differently for the
// observation's context.
func markDrift(helper string, cases map[string]Case, defs func(Case) any, obs []observation) error {
	if helper == "" {
		return nil
	}
	type ref struct{ obs, n int }
	var probes []jlProbe
	var refs []ref
	for i, o := range obs {
		c := cases[o.caseID]
		if c.Lint {
			continue
		}
		data, err := json.Marshal(utils.ContextToMap(goContext(c)))
		if err != nil {
			continue
		}
		for _, q := range flagQueries(o.view["flag"]) {
			probes = append(probes, jlProbe{Query: q, Data: data})
			refs = append(refs, ref{obs: i})
		}
	}
	if len(probes) == 0 {
		return nil
	}
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, p := range probes {
		_ = enc.Encode(p)
	}
	cmd := exec.Command(helper)
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for i := 0; sc.Scan() && i < len(probes); i++ {
		if sc.Text() != apply39(probes[i].Query, probes[i].Data) {
			d := obs[refs[i].obs].view["derived"].(map[string]any)
			d["jlDrift"] = true
		}
	}
	return nil
}
