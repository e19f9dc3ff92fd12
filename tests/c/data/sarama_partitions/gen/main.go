// Writes the key -> partition vectors of Sarama's default partitioner
// (NewHashPartitioner, what GOFF's Kafka exporter uses) for test_kafka.c:
// one line per (key, partition count): hex(key) TAB count TAB partition.
// Run once: go run . > ../vectors.tsv
package main

import (
	"encoding/hex"
	"fmt"
	"math/rand"
	"strings"

	"github.com/IBM/sarama"
)

func keys() []string {
	k := []string{"", "a", "b", "ABCD", "user", "user-1", "ünïcødé", "🙂", "😀 emoji key",
		"anonymous", "a b c", "tab\there", "newline\nkey", "quote\"key", "nul\x00byte",
		strings.Repeat("x", 1000), strings.Repeat("long-key-", 50)}
	for i := 0; i < 120; i++ {
		k = append(k, fmt.Sprintf("user-%d", i*7919))
	}
	r := rand.New(rand.NewSource(12))
	for i := 0; i < 60; i++ {
		b := make([]byte, 1+r.Intn(40))
		r.Read(b)
		k = append(k, string(b))
	}
	return k
}

func main() {
	counts := []int32{1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 31, 32, 50, 64, 100, 128, 1000, 65535, 2147483647}
	p := sarama.NewHashPartitioner("events")
	for _, key := range keys() {
		for _, n := range counts {
			part, err := p.Partition(&sarama.ProducerMessage{Key: sarama.StringEncoder(key)}, n)
			if err != nil {
				panic(err)
			}
			fmt.Printf("%s\t%d\t%d\n", hex.EncodeToString([]byte(key)), n, part)
		}
	}
}
