// GOFF v1.52.1's own SQS exporter (exporter/sqsexporter) on the same server
// and the same events as vexil's bench/bench_aws_streams.c: one Export call
// per event, as GOFF's synchronous pipeline makes with one evaluating
// goroutine (and the exporter itself sends one SendMessage per event
// whatever it is given). The endpoint goes through aws.Config.BaseEndpoint:
// the exporter takes no client options. Prints one JSON line: events, wall
// seconds and CPU seconds (user+system of the process) over the whole run.
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
	"github.com/thomaspoignant/go-feature-flag/exporter"
	"github.com/thomaspoignant/go-feature-flag/exporter/sqsexporter"
	"github.com/thomaspoignant/go-feature-flag/utils/fflog"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func main() {
	endpoint := flag.String("endpoint", "", "SQS endpoint")
	key := flag.String("key", "", "access key id")
	secret := flag.String("secret", "", "secret access key")
	queue := flag.String("queue", "", "queue URL")
	n := flag.Int("events", 1000, "events")
	flag.Parse()

	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(*key, *secret, ""),
		BaseEndpoint: aws.String(*endpoint),
	}
	e := &sqsexporter.Exporter{QueueURL: *queue, AwsConfig: &cfg}
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
