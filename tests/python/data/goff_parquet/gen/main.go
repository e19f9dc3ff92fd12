// Writes goff_feature.parquet and goff_tracking.parquet with GOFF's own file
// exporter (v1.52.1, parquet-go as GOFF's go.mod replaces it) from the events
// in feature.jsonl and tracking.jsonl, which vexil recorded for the scenarios
// of tests/python/test_parquet.py. Run once, by hand, outside the test run:
//
//	cd tests/python && ../../out/pyvenv/bin/python test_parquet.py  # the .jsonl files
//	cd data/goff_parquet/gen && go mod tidy && go run . ..
//
// (go.sum is not kept: `go mod tidy` writes it from the pinned go.mod.)
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/thomaspoignant/go-feature-flag/exporter"
	"github.com/thomaspoignant/go-feature-flag/exporter/fileexporter"
)

func readLines(path string, each func([]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if err := each(sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}

func export(dir, kind string, events []exporter.ExportableEvent) error {
	tmp, err := os.MkdirTemp("", "goff-parquet")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	e := &fileexporter.Exporter{Format: "parquet", OutputDir: tmp, Filename: "out.parquet"}
	if err := e.Export(context.Background(), nil, events); err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(tmp, "out.parquet"))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "goff_"+kind+".parquet"), b, 0o644)
}

func run(dir string) error {
	var features, tracking []exporter.ExportableEvent
	err := readLines(filepath.Join(dir, "feature.jsonl"), func(line []byte) error {
		var ev exporter.FeatureEvent
		err := json.Unmarshal(line, &ev)
		features = append(features, ev)
		return err
	})
	if err != nil {
		return err
	}
	err = readLines(filepath.Join(dir, "tracking.jsonl"), func(line []byte) error {
		var ev exporter.TrackingEvent
		err := json.Unmarshal(line, &ev)
		tracking = append(tracking, ev)
		return err
	})
	if err != nil {
		return err
	}
	if err := export(dir, "feature", features); err != nil {
		return err
	}
	return export(dir, "tracking", tracking)
}

func main() {
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
