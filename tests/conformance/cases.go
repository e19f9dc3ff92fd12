package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// Case is one evaluation (or, with Lint, one file's validation) that both
// sides run. The generator writes them as JSON lines; the Go oracle and the C
// runner (vexil_runner.c) read the same lines.
type Case struct {
	ID      string          `json:"id"`
	File    string          `json:"file"`   // relative to the cases file's folder
	Format  string          `json:"format"` // "json" or "yaml"
	Lint    bool            `json:"lint,omitempty"`
	Flag    string          `json:"flag,omitempty"`
	Type    string          `json:"type,omitempty"` // bool string int float object array
	Default json.RawMessage `json:"default,omitempty"`
	// Key is the targeting key; absent means "".
	Key *string `json:"key,omitempty"`
	// Attrs are the context's attributes. Integral top-level numbers are
	// ints unless named in Floats; nested numbers are floats (float64).
	Attrs  map[string]any `json:"attrs,omitempty"`
	Floats []string       `json:"floats,omitempty"`
}

// Result is what one side answered for one case, in one shape for both.
type Result struct {
	ID           string             `json:"id"`
	LoadError    *string            `json:"loadError,omitempty"`
	Panic        string             `json:"panic,omitempty"`
	Invalid      *map[string]string `json:"invalid,omitempty"`
	Value        json.RawMessage    `json:"value,omitempty"`
	Variant      string             `json:"variant,omitempty"`
	Reason       string             `json:"reason,omitempty"`
	ErrorCode    string             `json:"errorCode"`
	ErrorMessage string             `json:"errorMessage"`
	Metadata     json.RawMessage    `json:"metadata,omitempty"`
	Version      string             `json:"version"`
	TrackEvents  bool               `json:"trackEvents"`
	Cacheable    bool               `json:"cacheable"`
}

func writeLines[T any](path string, items []T) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, it := range items {
		if err := enc.Encode(it); err != nil {
			return err
		}
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func readLines[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		var it T
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.UseNumber()
		if err := d.Decode(&it); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, it)
	}
	return out, sc.Err()
}
