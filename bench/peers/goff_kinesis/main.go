// GOFF v1.52.1's own Kinesis exporter (exporter/kinesisexporter) on the same
// server and the same events as vexil's bench/bench_aws_streams.c. GOFF's
// exporter is synchronous (IsBulk false): its pipeline calls Export from
// AddEvent, on the evaluating goroutine, with the events pending then; with
// one evaluating goroutine that is one event per call, which is what this
// program does. Prints one JSON line: events, wall seconds and CPU seconds
// (user+system of the process) over the whole run.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/thomaspoignant/go-feature-flag/exporter"
	"github.com/thomaspoignant/go-feature-flag/exporter/kinesisexporter"
	"github.com/thomaspoignant/go-feature-flag/utils/fflog"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func main() {
	endpoint := flag.String("endpoint", "", "Kinesis endpoint")
	key := flag.String("key", "", "access key id")
	secret := flag.String("secret", "", "secret access key")
	stream := flag.String("stream", "", "stream name")
	n := flag.Int("events", 1000, "events")
	flag.Parse()

	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(*key, *secret, ""),
	}
	e := &kinesisexporter.Exporter{
		AwsConfig: &cfg,
		Settings:  kinesisexporter.NewSettings(kinesisexporter.WithStreamName(*stream)),
		KinesisOptions: []func(*kinesis.Options){func(o *kinesis.Options) {
			o.BaseEndpoint = aws.String(*endpoint)
		}},
	}
	logger := &fflog.FFLogger{}
	ctx := context.Background()
	now := time.Now().Unix()
	c0, t0 := cpuSeconds(), time.Now()
	for i := 0; i < *n; i++ {
		ev := exporter.FeatureEvent{
			Kind: "feature", ContextKind: "user", UserKey: fmt.Sprintf("user-%d", i),
			CreationDate: now, Key: "color", Variation: "red", Value: "#f00",
			Default: false, Version: "3", Source: "SERVER",
		}
		if err := e.Export(ctx, logger, []exporter.ExportableEvent{ev}); err != nil {
			fmt.Fprintln(os.Stderr, "export:", err)
			os.Exit(1)
		}
	}
	wall, cpu := time.Since(t0), cpuSeconds()-c0
	out, _ := json.Marshal(map[string]any{"events": *n, "wall_s": wall.Seconds(), "cpu_s": cpu})
	fmt.Println(string(out))
}
