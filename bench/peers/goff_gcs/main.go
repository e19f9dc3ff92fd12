// GOFF v1.52.1's Google Cloud Storage exporter on the events bench_gcs
// exports: N feature events, handed to Export in batches of B, uploaded to
// the server STORAGE_EMULATOR_HOST names (the Go client's own variable).
// Prints one JSON line: events, objects, wall and CPU seconds of the Export
// calls (events are built before the clock starts).
//
//	STORAGE_EMULATOR_HOST=127.0.0.1:PORT go run ./goff_gcs -bucket B -events N -batch B
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/thomaspoignant/go-feature-flag/exporter"
	"github.com/thomaspoignant/go-feature-flag/exporter/gcstorageexporter"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func main() {
	bucket := flag.String("bucket", "bench", "bucket")
	n := flag.Int("events", 100000, "events")
	batch := flag.Int("batch", 10000, "events per Export call")
	format := flag.String("format", "json", "json, csv or parquet")
	flag.Parse()

	now := time.Now().Unix()
	events := make([]exporter.ExportableEvent, *n)
	for i := range events {
		events[i] = exporter.FeatureEvent{
			Kind: "feature", ContextKind: "user", UserKey: fmt.Sprintf("user-%d", i),
			CreationDate: now, Key: "bench-flag", Variation: "gold", Value: "gold",
			Default: false, Version: "", Source: "SERVER",
		}
	}
	e := &gcstorageexporter.Exporter{Bucket: *bucket, Format: *format, Path: "goff"}
	ctx := context.Background()
	cpu0, t0 := cpuSeconds(), time.Now()
	objects := 0
	for off := 0; off < *n; off += *batch {
		end := off + *batch
		if end > *n {
			end = *n
		}
		if err := e.Export(ctx, nil, events[off:end]); err != nil {
			fmt.Fprintln(os.Stderr, "export:", err)
			os.Exit(1)
		}
		objects++
	}
	wall, cpu := time.Since(t0).Seconds(), cpuSeconds()-cpu0
	out, _ := json.Marshal(map[string]any{"events": *n, "objects": objects, "wall_s": wall, "cpu_s": cpu})
	fmt.Println(string(out))
}
