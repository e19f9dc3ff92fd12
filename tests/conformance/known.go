package main

// The list of known differences (known_differences.yaml): what each entry
// says, its minimal example, and the matcher that recognises the
// differences it explains.

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

type Example struct {
	Format  string         `yaml:"format"`
	File    string         `yaml:"file"` // the flag file's text
	Flag    string         `yaml:"flag"`
	Type    string         `yaml:"type"`
	Default any            `yaml:"default"`
	Key     *string        `yaml:"key"`
	Attrs   map[string]any `yaml:"attrs"`
	Floats  []string       `yaml:"floats"`
	Lint    bool           `yaml:"lint"`
	// Repeat runs the example this many times, for a GOFF answer that
	// depends on Go's random map order: one run that differs is enough.
	Repeat int `yaml:"repeat"`
}

type Known struct {
	ID      string            `yaml:"id"`
	Title   string            `yaml:"title"`
	Kind    string            `yaml:"kind"`
	Reason  string            `yaml:"reason"`
	Readme  string            `yaml:"readme"`
	Example *Example          `yaml:"example"`
	Match   map[string]string `yaml:"match"`
	// CheckedBy names the test that holds a difference no evaluation
	// result shows (events, limits, retrievers): those entries have no
	// example and no matcher.
	CheckedBy string `yaml:"checked_by"`

	patterns map[string]*regexp.Regexp
}

type KnownList struct {
	Intro       string  `yaml:"intro"`
	Differences []Known `yaml:"differences"`
}

var kinds = map[string]string{
	"goff-bug":      "GOFF bugs and crashes vexil does not reproduce",
	"vexil-choice":  "vexil's deliberate choices",
	"version-drift": "Version drift: vexil follows GOFF's main branch, newer than v1.52.1",
}

var kindOrder = []string{"goff-bug", "vexil-choice", "version-drift"}

func loadKnown(path string) (*KnownList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var kl KnownList
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&kl); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for i := range kl.Differences {
		k := &kl.Differences[i]
		if k.ID == "" || seen[k.ID] {
			return nil, fmt.Errorf("%s: entry %d: missing or repeated id %q", path, i, k.ID)
		}
		seen[k.ID] = true
		if _, ok := kinds[k.Kind]; !ok {
			return nil, fmt.Errorf("%s: %s: kind %q is not one of goff-bug, vexil-choice, version-drift", path, k.ID, k.Kind)
		}
		if k.Reason == "" || strings.Contains(strings.TrimSpace(k.Reason), "\n") {
			return nil, fmt.Errorf("%s: %s: the reason must be one line", path, k.ID)
		}
		if k.CheckedBy == "" && (k.Example == nil || len(k.Match) == 0) {
			return nil, fmt.Errorf("%s: %s: needs an example and a matcher (or checked_by)", path, k.ID)
		}
		if k.CheckedBy != "" && (k.Example != nil || len(k.Match) > 0) {
			return nil, fmt.Errorf("%s: %s: checked_by entries have no example or matcher", path, k.ID)
		}
		k.patterns = map[string]*regexp.Regexp{}
		for p, re := range k.Match {
			rx, err := regexp.Compile(re)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: match %s: %w", path, k.ID, p, err)
			}
			k.patterns[p] = rx
		}
	}
	return &kl, nil
}

// matches tells whether every pattern of the entry matches the view: each
// path's value, as compact JSON ("" when absent), must match its regexp.
func (k *Known) matches(view map[string]any) bool {
	if len(k.patterns) == 0 {
		return false
	}
	for p, rx := range k.patterns {
		if !rx.MatchString(lookup(view, p)) {
			return false
		}
	}
	return true
}

func lookup(view map[string]any, path string) string {
	var cur any = view
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur, ok = m[part]
		if !ok {
			return ""
		}
	}
	b, _ := json.Marshal(cur)
	return string(b)
}

// exampleCases writes each entry's example as a flag file of its own and
// returns one case per example.
func exampleCases(kl *KnownList, dir string) ([]Case, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var cases []Case
	for _, k := range kl.Differences {
		ex := k.Example
		if ex == nil {
			continue
		}
		ext := "yaml"
		if ex.Format == "json" {
			ext = "json"
		}
		name := "ex-" + k.ID + "." + ext
		if err := os.WriteFile(dir+"/"+name, []byte(ex.File), 0o644); err != nil {
			return nil, err
		}
		c := Case{ID: k.ID, File: name, Format: ext, Lint: ex.Lint, Flag: ex.Flag, Type: ex.Type,
			Key: ex.Key, Floats: ex.Floats}
		if !ex.Lint {
			d, err := json.Marshal(ex.Default)
			if err != nil {
				return nil, fmt.Errorf("%s: default: %w", k.ID, err)
			}
			c.Default = d
			attrs, err := json.Marshal(ex.Attrs)
			if err != nil {
				return nil, fmt.Errorf("%s: attrs: %w", k.ID, err)
			}
			if err := decodeNumbers(attrs, &c.Attrs); err != nil {
				return nil, err
			}
		}
		for r := 0; r < max(ex.Repeat, 1); r++ {
			rc := c
			if ex.Repeat > 1 {
				rc.ID = fmt.Sprintf("%s#%d", k.ID, r)
			}
			cases = append(cases, rc)
		}
	}
	return cases, nil
}

func sortedIDs(m map[string]int) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
