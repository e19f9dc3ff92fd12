package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

type runStats struct {
	Seed        int64          `json:"seed"`
	Files       int            `json:"files"`
	Cases       int            `json:"cases"`
	Identical   int            `json:"identical"`
	Explained   int            `json:"explained"`
	Unexplained int            `json:"unexplained"`
	ByEntry     map[string]int `json:"byEntry"`
}

func (s runStats) rate() float64 { return 100 * float64(s.Identical) / float64(s.Cases) }

func runVexil(runner, cases, out string) error {
	cmd := exec.Command(runner, cases, out)
	cmd.Stderr = os.Stderr
	return cmd.Run()
}

// evaluate runs a cases file through both sides.
func evaluate(runner, casesPath string) ([]Case, []Result, []Result, error) {
	cases, err := readLines[Case](casesPath)
	if err != nil {
		return nil, nil, nil, err
	}
	goff := runGoff(cases, filepath.Dir(casesPath))
	if err := writeLines(strings.TrimSuffix(casesPath, ".jsonl")+".goff.jsonl", goff); err != nil {
		return nil, nil, nil, err
	}
	vxPath := strings.TrimSuffix(casesPath, ".jsonl") + ".vexil.jsonl"
	if err := runVexil(runner, casesPath, vxPath); err != nil {
		return nil, nil, nil, fmt.Errorf("vexil runner: %w", err)
	}
	vexil, err := readLines[Result](vxPath)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(vexil) != len(cases) {
		return nil, nil, nil, fmt.Errorf("vexil answered %d of %d cases", len(vexil), len(cases))
	}
	return cases, goff, vexil, nil
}

func cmdRun(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	runner := fs.String("vexil", "", "the vexil runner (vexil_runner.c built)")
	seed := fs.Int64("seed", 1, "generator seed")
	nfiles := fs.Int("files", 100, "flag files to generate")
	work := fs.String("work", "out/conformance/run", "work folder")
	knownPath := fs.String("known", "tests/conformance/known_differences.yaml", "known differences")
	readme := fs.String("readme", "", "README.md whose section must match the known differences")
	show := fs.Int("show", 5, "unexplained differences to print")
	jl310 := fs.String("jsonlogic310", "", "the jsonlogic310 helper (JsonLogic v3.10.1)")
	_ = fs.Parse(args)
	if *runner == "" {
		usage()
	}
	start := time.Now()
	kl, err := loadKnown(*knownPath)
	if err != nil {
		return err
	}
	_ = os.RemoveAll(*work)
	genDir := filepath.Join(*work, "cases")
	if _, err := generate(*seed, *nfiles, genDir); err != nil {
		return err
	}
	exDir := filepath.Join(*work, "examples")
	exCases, err := exampleCases(kl, exDir)
	if err != nil {
		return err
	}
	if err := writeLines(filepath.Join(exDir, "cases.jsonl"), exCases); err != nil {
		return err
	}

	failed := false
	// 1. Every listed difference still happens in its minimal example, and
	// its own matcher recognises it.
	cases, goff, vexil, err := evaluate(*runner, filepath.Join(exDir, "cases.jsonl"))
	if err != nil {
		return err
	}
	ff := &flagFiles{dir: exDir, files: map[string]map[string]any{}}
	byID := map[string]*Known{}
	for i := range kl.Differences {
		byID[kl.Differences[i].ID] = &kl.Differences[i]
	}
	differs := map[string]bool{}
	seen := map[string][]observation{}
	exObs, byCase := compareAll(ff, cases, goff, vexil)
	if err := markDrift(*jl310, byCase, nil, exObs); err != nil {
		return err
	}
	for _, o := range exObs {
		id, _, _ := strings.Cut(o.caseID, "#")
		seen[id] = append(seen[id], o)
		if byID[id].matches(o.view) {
			differs[id] = true
		}
	}
	for _, k := range kl.Differences {
		if k.Example == nil || differs[k.ID] {
			continue
		}
		failed = true
		if len(seen[k.ID]) == 0 {
			fmt.Printf("STALE %s: its example no longer differs (GOFF and vexil agree): remove or update the entry\n", k.ID)
			continue
		}
		fmt.Printf("STALE %s: its example differs, but not as its matcher says:\n", k.ID)
		for _, o := range seen[k.ID] {
			printObservation(o)
		}
	}

	// 2. The generated cases: every difference must be explained.
	cases, goff, vexil, err = evaluate(*runner, filepath.Join(genDir, "cases.jsonl"))
	if err != nil {
		return err
	}
	ff = &flagFiles{dir: genDir, files: map[string]map[string]any{}}
	st := runStats{Seed: *seed, Files: *nfiles, Cases: len(cases), ByEntry: map[string]int{}}
	var unexplained []observation
	allObs, byCase := compareAll(ff, cases, goff, vexil)
	if err := markDrift(*jl310, byCase, nil, allObs); err != nil {
		return err
	}
	bad := map[string]bool{}
	for _, o := range allObs {
		if id := explain(kl, o); id == "" {
			bad[o.caseID] = true
			unexplained = append(unexplained, o)
		} else {
			st.ByEntry[id]++
		}
	}
	differing := map[string]bool{}
	for _, o := range allObs {
		differing[o.caseID] = true
	}
	for _, c := range cases {
		switch {
		case !differing[c.ID]:
			st.Identical++
		case bad[c.ID]:
			st.Unexplained++
		default:
			st.Explained++
		}
	}
	writeObservations(filepath.Join(*work, "unexplained.jsonl"), unexplained)
	fmt.Printf("conformance against GOFF v1.52.1: seed %d, %d files, %d cases: %d identical (%.2f%%), %d explained by known differences, %d unexplained [%s]\n",
		st.Seed, st.Files, st.Cases, st.Identical, st.rate(), st.Explained, st.Unexplained,
		time.Since(start).Round(time.Millisecond))
	for _, id := range sortedIDs(st.ByEntry) {
		fmt.Printf("  %6d  %s\n", st.ByEntry[id], id)
	}
	if st.Unexplained > 0 {
		failed = true
		fmt.Printf("%d differences are not on the list (all in %s); the first:\n", len(unexplained),
			filepath.Join(*work, "unexplained.jsonl"))
		for i, o := range unexplained {
			if i == *show {
				break
			}
			printObservation(o)
		}
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	_ = os.WriteFile(filepath.Join(*work, "stats.json"), b, 0o644)

	if *readme != "" {
		if err := checkReadme(kl, *readme, st, filepath.Join(*work, "stats.json")); err != nil {
			failed = true
			fmt.Println(err)
		}
	}
	stale := 0
	for _, k := range kl.Differences {
		if k.Example != nil && !differs[k.ID] {
			stale++
		}
	}
	// One closing line in the form CI reads: cases that agree or are
	// explained pass; unexplained cases and stale entries fail.
	fmt.Printf("conformance: %d passed, %d failed\n", st.Identical+st.Explained, st.Unexplained+stale)
	if failed {
		return fmt.Errorf("conformance failed")
	}
	return nil
}

func compareAll(ff *flagFiles, cases []Case, goff, vexil []Result) ([]observation, map[string]Case) {
	var obs []observation
	byCase := make(map[string]Case, len(cases))
	for i, c := range cases {
		byCase[c.ID] = c
		obs = append(obs, ff.compareCase(c, goff[i], vexil[i])...)
	}
	return obs, byCase
}

func explain(kl *KnownList, o observation) string {
	for i := range kl.Differences {
		if kl.Differences[i].matches(o.view) {
			return kl.Differences[i].ID
		}
	}
	return ""
}

func printObservation(o observation) {
	view := map[string]any{"case": o.view["case"], "goff": o.view["goff"], "vexil": o.view["vexil"],
		"diff": o.view["diff"], "flagKey": o.flag, "flag": o.view["flag"], "derived": o.view["derived"]}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(view)
	s := b.String()
	if len(s) > 3000 {
		s = s[:3000] + "...\n"
	}
	fmt.Print("  ", s)
}

func writeObservations(path string, obs []observation) {
	sort.SliceStable(obs, func(i, j int) bool { return strings.Join(obs[i].diff, ",") < strings.Join(obs[j].diff, ",") })
	views := make([]map[string]any, len(obs))
	for i, o := range obs {
		views[i] = o.view
	}
	_ = writeLines(path, views)
}
