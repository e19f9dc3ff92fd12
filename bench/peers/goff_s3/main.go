// GOFF v1.52.1's own S3 exporter (exporter/s3exporterv2) on the same server
// and the same events as vexil's bench/bench_s3.c: N feature events in
// batches of B, one Export call per batch, each batch under its own S3Path
// (GOFF names objects by the second, so batches in one second would
// overwrite each other otherwise). Prints one JSON line: events, wall
// seconds and CPU seconds (user+system of the process) spent in Export.
// An https endpoint is trusted through AWS_CA_BUNDLE.
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
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/thomaspoignant/go-feature-flag/exporter"
	"github.com/thomaspoignant/go-feature-flag/exporter/s3exporterv2"
	"github.com/thomaspoignant/go-feature-flag/utils/fflog"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func main() {
	endpoint := flag.String("endpoint", "", "S3 endpoint")
	key := flag.String("key", "", "access key id")
	secret := flag.String("secret", "", "secret access key")
	bucket := flag.String("bucket", "vexil", "bucket")
	prefix := flag.String("prefix", "goff", "object prefix")
	format := flag.String("format", "json", "json, csv or parquet")
	n := flag.Int("events", 100000, "events")
	batch := flag.Int("batch", 10000, "events per Export")
	flag.Parse()

	// The SDK's own loading, as GOFF's exporter does without a config: it
	// reads AWS_CA_BUNDLE (the HTTPS runs trust the test certificate so).
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(*key, *secret, "")))
	if err != nil {
		fmt.Fprintln(os.Stderr, "config:", err)
		os.Exit(1)
	}
	now := time.Now().Unix()
	events := make([]exporter.ExportableEvent, *n)
	for i := range events {
		events[i] = exporter.FeatureEvent{
			Kind: "feature", ContextKind: "user", UserKey: fmt.Sprintf("user-%d", i),
			CreationDate: now, Key: "color", Variation: "red", Value: "#f00",
			Default: false, Version: "3", Source: "SERVER",
		}
	}
	logger := &fflog.FFLogger{}
	ctx := context.Background()
	var wall time.Duration
	var cpu float64
	for b := 0; b*(*batch) < *n; b++ {
		e := &s3exporterv2.Exporter{
			Bucket: *bucket, AwsConfig: &cfg, Format: *format,
			S3Path: fmt.Sprintf("%s/batch-%d", *prefix, b),
			S3ClientOptions: []func(*s3.Options){func(o *s3.Options) {
				o.BaseEndpoint = aws.String(*endpoint)
				o.UsePathStyle = true
			}},
		}
		lo, hi := b*(*batch), (b+1)*(*batch)
		if hi > *n {
			hi = *n
		}
		c0, t0 := cpuSeconds(), time.Now()
		if err := e.Export(ctx, logger, events[lo:hi]); err != nil {
			fmt.Fprintln(os.Stderr, "export:", err)
			os.Exit(1)
		}
		wall += time.Since(t0)
		cpu += cpuSeconds() - c0
	}
	out, _ := json.Marshal(map[string]any{"events": *n, "wall_s": wall.Seconds(), "cpu_s": cpu})
	fmt.Println(string(out))
}
