// GOFF v1.52.1's Azure Blob Storage exporter on the events bench_azblob
// exports: N feature events handed to Export in batches of B, uploaded with
// the development account's key to the Azurite at -url (GOFF's ServiceURL,
// settable from Go only). Each Export gets its own Path, so that GOFF's
// one-name-per-second files do not overwrite one another and every event
// lands. Prints one JSON line: events, blobs, wall and CPU seconds of the
// Export calls (the events are built before the clock starts).
//
//	go run ./goff_azblob -url http://127.0.0.1:PORT/devstoreaccount1/ -key KEY -container C
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/thomaspoignant/go-feature-flag/exporter"
	"github.com/thomaspoignant/go-feature-flag/exporter/azureexporter"
	"github.com/thomaspoignant/go-feature-flag/utils/fflog"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func main() {
	url := flag.String("url", "", "the account's service URL")
	key := flag.String("key", "", "the account key")
	container := flag.String("container", "bench", "container")
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
	logger := &fflog.FFLogger{LeveledLogger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()
	cpu0, t0 := cpuSeconds(), time.Now()
	blobs := 0
	for off := 0; off < *n; off += *batch {
		end := off + *batch
		if end > *n {
			end = *n
		}
		e := &azureexporter.Exporter{
			Container: *container, AccountName: "devstoreaccount1", AccountKey: *key,
			ServiceURL: *url, Format: *format, Path: fmt.Sprintf("goff/%d", blobs),
		}
		if err := e.Export(ctx, logger, events[off:end]); err != nil {
			fmt.Fprintln(os.Stderr, "export:", err)
			os.Exit(1)
		}
		blobs++
	}
	wall, cpu := time.Since(t0).Seconds(), cpuSeconds()-cpu0
	out, _ := json.Marshal(map[string]any{"events": *n, "blobs": blobs, "wall_s": wall, "cpu_s": cpu})
	fmt.Println(string(out))
}
