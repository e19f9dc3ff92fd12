package main

// README.md's "Where vexil differs from GOFF" section, generated from the
// list of known differences and checked against it.

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
)

const (
	sectionTitle = "## Where vexil differs from GOFF"
	rateStart    = "<!-- conformance-rate: written by `make conformance` runs; see tests/conformance -->"
	rateEnd      = "<!-- /conformance-rate -->"
)

func commas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func rateText(st runStats) string {
	notFound := st.ByEntry["flag-not-found-message"]
	return fmt.Sprintf("**Match rate against GOFF v1.52.1.** `make conformance` (seed %d, %s generated flag files) "+
		"runs %s cases through both. %s of them (%.1f%%) give the same answer in every field: value, variant, "+
		"reason, error code and message, metadata, version, trackEvents and cacheable, and for each file which "+
		"flags are invalid and why. The other %s are each explained by an entry below; %s of them differ only in "+
		"the message of `FLAG_NOT_FOUND` (the generator asks for flags that fail validation), so %.1f%% of the "+
		"cases agree in everything else.",
		st.Seed, commas(st.Files), commas(st.Cases), commas(st.Identical), st.rate(),
		commas(st.Explained), commas(notFound),
		100*float64(st.Identical+notFound)/float64(st.Cases))
}

func title(k Known) string {
	if k.Title != "" {
		return k.Title
	}
	return strings.ToUpper(k.ID[:1]) + strings.ReplaceAll(k.ID[1:], "-", " ")
}

// section renders the whole section; rate is the match-rate paragraph.
func section(kl *KnownList, rate string) string {
	var b strings.Builder
	b.WriteString(sectionTitle + "\n\n")
	b.WriteString(wrap(strings.Join(strings.Fields(kl.Intro), " "), "", "") + "\n\n")
	b.WriteString(rateStart + "\n" + wrap(strings.TrimSpace(rate), "", "") + "\n" + rateEnd + "\n")
	for _, kind := range kindOrder {
		b.WriteString("\n### " + kinds[kind] + "\n\n")
		for _, k := range kl.Differences {
			if k.Kind != kind {
				continue
			}
			text := strings.TrimSpace(k.Readme)
			if text == "" {
				text = strings.TrimSpace(k.Reason)
			}
			b.WriteString(item("**"+title(k)+".** "+text) + "\n")
		}
	}
	return b.String()
}

const width = 100

// wrap fills one paragraph to the README's width.
func wrap(text, first, rest string) string {
	var b strings.Builder
	line := first
	empty := true
	for _, w := range strings.Fields(text) {
		if !empty && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line, empty = rest, true
		}
		if !empty {
			line += " "
		}
		line += w
		empty = false
	}
	b.WriteString(line)
	return b.String()
}

// item renders a list item: its first paragraph filled, then the lines of
// a table (or any line after a blank one) indented as they are.
func item(text string) string {
	paras := strings.SplitN(text, "\n\n", 2)
	out := wrap(paras[0], "- ", "  ")
	if len(paras) == 2 {
		out += "\n"
		for _, l := range strings.Split(paras[1], "\n") {
			if l == "" {
				out += "\n"
			} else {
				out += "\n  " + l
			}
		}
	}
	return out
}

// splitReadme returns the text before the section, the section, and after.
func splitReadme(text string) (string, string, string, error) {
	i := strings.Index(text, "\n"+sectionTitle+"\n")
	if i < 0 {
		return "", "", "", fmt.Errorf("README has no %q section", sectionTitle)
	}
	i++
	j := strings.Index(text[i+len(sectionTitle):], "\n## ")
	if j < 0 {
		return text[:i], text[i:], "", nil
	}
	j += i + len(sectionTitle) + 1
	return text[:i], text[i:j], text[j:], nil
}

func currentRate(sec string) string {
	a := strings.Index(sec, rateStart)
	z := strings.Index(sec, rateEnd)
	if a < 0 || z < a {
		return ""
	}
	return strings.TrimSpace(sec[a+len(rateStart) : z])
}

// checkReadme fails when the README's section is not what the list gives.
// The match-rate paragraph is the README's own; rate names this run's
// stats.json, for the note that says how to restate it.
func checkReadme(kl *KnownList, path string, st runStats, rate string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	_, sec, _, err := splitReadme(string(data))
	if err != nil {
		return err
	}
	r := currentRate(sec)
	// GOFF's answers that depend on Go's map order move the counts a little
	// from run to run: a rate that moved is reported, not failed.
	if strings.Contains(r, fmt.Sprintf("(seed %d, %s generated", st.Seed, commas(st.Files))) &&
		!strings.Contains(r, fmt.Sprintf("(%.1f%%)", st.rate())) {
		fmt.Printf("note: %s states other figures than this run's; to restate them:\n"+
			"  %s readme -write -stats %s\n", path, os.Args[0], rate)
	}
	if want := section(kl, r); strings.TrimRight(sec, "\n") != strings.TrimRight(want, "\n") {
		return fmt.Errorf("%s: the %q section is not what tests/conformance/known_differences.yaml "+
			"gives; regenerate it with\n  %s readme -write", path, sectionTitle, os.Args[0])
	}
	return nil
}

func cmdReadme(args []string) error {
	fs := flag.NewFlagSet("readme", flag.ExitOnError)
	known := fs.String("known", "tests/conformance/known_differences.yaml", "known differences")
	path := fs.String("readme", "README.md", "README to check or rewrite")
	statsPath := fs.String("stats", "", "stats.json of a run, for the match-rate paragraph")
	write := fs.Bool("write", false, "rewrite the section instead of checking it")
	_ = fs.Parse(args)
	kl, err := loadKnown(*known)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(*path)
	if err != nil {
		return err
	}
	before, sec, after, err := splitReadme(string(data))
	if err != nil {
		return err
	}
	r := currentRate(sec)
	if *statsPath != "" {
		var st runStats
		b, err := os.ReadFile(*statsPath)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &st); err != nil {
			return err
		}
		r = rateText(st)
	}
	want := section(kl, r)
	if !*write {
		if strings.TrimRight(sec, "\n") != strings.TrimRight(want, "\n") {
			return fmt.Errorf("%s: section out of date", *path)
		}
		return nil
	}
	var out bytes.Buffer
	out.WriteString(before + want)
	if after != "" {
		out.WriteString("\n" + after)
	}
	return os.WriteFile(*path, out.Bytes(), 0o644)
}
