// GOFF v1.52.1's OpenTelemetry exporter at full rate, for bench/bench_otel.py:
// the TracerProvider GOFF's relay proxy installs (OTLP/HTTP protobuf span
// exporter, BatchSpanProcessor with the SDK's defaults, always-on sampler)
// to the collector at OTEL_EXPORTER_OTLP_ENDPOINT, then N evaluations of the
// bench's flag with distinct users. Prints one JSON line: wall and CPU
// seconds from the first evaluation until the provider has shut down
// (everything it was going to send is sent), and the time spent evaluating.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"syscall"
	"time"

	ffclient "github.com/thomaspoignant/go-feature-flag"
	"github.com/thomaspoignant/go-feature-flag/exporter/opentelemetryexporter"
	"github.com/thomaspoignant/go-feature-flag/ffcontext"
	"github.com/thomaspoignant/go-feature-flag/retriever/fileretriever"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func main() {
	n := flag.Int("n", 100000, "evaluations")
	flags := flag.String("flags", "", "flag file")
	key := flag.String("flag", "checkout", "flag key")
	flag.Parse()

	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx) // OTEL_EXPORTER_OTLP_ENDPOINT, http/protobuf
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	res, _ := resource.New(ctx, resource.WithAttributes(semconv.ServiceNameKey.String("goff-bench")))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)

	client, err := ffclient.New(ffclient.Config{
		PollingInterval: time.Hour,
		Retriever:       &fileretriever.Retriever{Path: *flags},
		DataExporter:    ffclient.DataExporter{Exporter: &opentelemetryexporter.Exporter{}},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	users := make([]ffcontext.Context, *n)
	for i := range users {
		users[i] = ffcontext.NewEvaluationContextBuilder(fmt.Sprintf("user-%08d", i)).
			AddCustom("plan", "enterprise").AddCustom("country", "FR").Build()
	}
	lat := make([]float64, 0, *n/1000+1)
	cpu0, t0 := cpuSeconds(), time.Now()
	for i := 0; i < *n; i += 1000 {
		r0 := time.Now()
		for j := i; j < i+1000 && j < *n; j++ {
			_, _ = client.StringVariation(*key, users[j], "none")
		}
		lat = append(lat, float64(time.Since(r0).Nanoseconds())/1000)
	}
	evalDone := time.Since(t0).Seconds()
	client.Close()
	_ = tp.Shutdown(ctx)
	wall, cpu := time.Since(t0).Seconds(), cpuSeconds()-cpu0
	sort.Float64s(lat)
	out := map[string]any{"n": *n, "wall_s": wall, "cpu_s": cpu, "eval_s": evalDone,
		"eval_ns_p50": lat[len(lat)/2], "eval_ns_p99": lat[len(lat)*99/100]}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
