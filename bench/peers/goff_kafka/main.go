// GOFF v1.52.1's Kafka exporter as a user gets it: ffclient with the
// kafkaexporter (GOFF's defaults: a Sarama SyncProducer, acks=1, no
// idempotence), evaluating N times from G goroutines; every evaluation's
// event goes through GOFF's synchronous exporter path (one goroutine per
// event, AddEvent, then a synchronous Flush of everything pending). Prints
// one JSON line like bench/bench_kafka.c: the rate until Close() returned
// (every event handed to Kafka), CPU per event, evaluation latency.
//
//	goff_kafka -brokers 127.0.0.1:9092 -topic t -n 20000 -g 1
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	ffclient "github.com/thomaspoignant/go-feature-flag"
	"github.com/thomaspoignant/go-feature-flag/exporter/kafkaexporter"
	"github.com/thomaspoignant/go-feature-flag/ffcontext"
	"github.com/thomaspoignant/go-feature-flag/retriever/fileretriever"
)

const flags = `color:
  variations:
    red: red
    blue: blue
  defaultRule:
    percentage:
      red: 50
      blue: 50
`

func cpu() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap broker")
	topic := flag.String("topic", "goff", "topic")
	n := flag.Int("n", 20000, "evaluations")
	g := flag.Int("g", 1, "evaluating goroutines")
	users := flag.Int("users", 10000, "distinct targeting keys")
	flag.Parse()

	dir, err := os.MkdirTemp("", "goff-kafka")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "flags.yaml")
	if err := os.WriteFile(path, []byte(flags), 0o644); err != nil {
		panic(err)
	}
	client, err := ffclient.New(ffclient.Config{
		PollingInterval: time.Hour,
		Retriever:       &fileretriever.Retriever{Path: path},
		DataExporter: ffclient.DataExporter{
			Exporter: &kafkaexporter.Exporter{
				Settings: kafkaexporter.Settings{Topic: *topic, Addresses: []string{*brokers}},
			},
		},
	})
	if err != nil {
		panic(err)
	}
	ctxs := make([]ffcontext.Context, *users)
	for i := range ctxs {
		ctxs[i] = ffcontext.NewEvaluationContext(fmt.Sprintf("user-%d", i))
	}
	lat := make([]int64, *n)
	var wg sync.WaitGroup
	cpu0, t0 := cpu(), time.Now()
	per := *n / *g
	for w := 0; w < *g; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w * per; i < (w+1)*per; i++ {
				s := time.Now()
				_, _ = client.StringVariation("color", ctxs[i%*users], "none")
				lat[i] = time.Since(s).Nanoseconds()
			}
		}(w)
	}
	wg.Wait()
	evalDone := time.Since(t0)
	client.Close() // waits for every event's exporter goroutine
	secs := time.Since(t0).Seconds()
	used := cpu() - cpu0
	total := per * *g
	lat = lat[:total]
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	var sum int64
	for _, v := range lat {
		sum += v
	}
	out, _ := json.Marshal(map[string]any{
		"mode": "goff", "events": total, "goroutines": *g, "seconds": secs,
		"events_per_s": float64(total) / secs, "cpu_us_per_event": used.Seconds() * 1e6 / float64(total),
		"eval_seconds": evalDone.Seconds(), "eval_p50_ns": lat[total/2], "eval_p99_ns": lat[total*99/100],
		"eval_mean_ns": sum / int64(total),
	})
	fmt.Println(string(out))
}
